/**
 * Lock-change events on a quorum: one stream from N nodes' pub/sub.
 *
 * A grant's own events (`acquired`, or `handoff` for a waiter) are published by the client
 * that got it, on `P qev:<name>` of every node that answered (itself when the granting nodes
 * agreed on its fence, else from the fence write-back, scripts/raise-fence.lua), only while
 * someone listens, and with an id: the first copy is delivered, the others dropped. Everything
 * else is what the nodes' own scripts publish on `P ev:<name>` (released, expired, lost,
 * waiting, left): delivered once a majority of nodes reported the same change (type, name,
 * fence, permits, owner). A released or expired holder's record carries the quorum fence by
 * then (numbered so by the nodes, or rewritten by the write-back), so the nodes agree; a grant a minority of nodes made for a
 * waiter that gave it back never reaches a majority and is not reported. The nodes' own
 * `acquired` / `handoff` carry each node's fence, not the quorum's, and are ignored.
 */
import type { Redis } from 'ioredis';
import type { BackendEvent } from '../../backend.js';
import { parseEvent } from '../redis/replies.js';

/** How long copies of one change are matched up. */
const MATCH_WINDOW_MS = 30_000;
const CLIENT_TYPES = new Set(['acquired', 'handoff']);

type Listener = (event: BackendEvent) => void;

interface Change {
  readonly nodes: Set<number>;
  readonly since: number;
  delivered: boolean;
}

export class QuorumEvents {
  readonly #quorum: number;
  readonly #listeners = new Map<string, Set<Listener>>();
  /** Copies of node events, by content, oldest first. */
  readonly #changes = new Map<string, Change[]>();
  /** Ids of client-published events already delivered. */
  readonly #seen = new Map<string, number>();
  readonly #connections: Redis[] = [];

  constructor(quorum: number) {
    this.#quorum = quorum;
  }

  /** Feeds one node's subscriber connection into this stream. */
  attach(index: number, subscriber: Redis, prefix: string): void {
    this.#connections.push(subscriber);
    subscriber.on('pmessage', (pattern: string, channel: string, message: string) => {
      const client = channel.startsWith(`${prefix}qev:`);
      this.#receive(index, pattern, message, client);
    });
  }

  /** The PSUBSCRIBE patterns for names matching `pattern`. */
  static patterns(prefix: string, pattern: string): [node: string, client: string] {
    const escaped = prefix.replace(/[*?[\]\\]/g, '\\$&');
    return [`${escaped}ev:${pattern}`, `${escaped}qev:${pattern}`];
  }

  add(patterns: readonly string[], listener: Listener): void {
    for (const p of patterns) {
      const set = this.#listeners.get(p) ?? new Set();
      set.add(listener);
      this.#listeners.set(p, set);
    }
  }

  /** Removes the listener; true when nobody listens to these patterns any more. */
  remove(patterns: readonly string[], listener: Listener): boolean {
    let empty = true;
    for (const p of patterns) {
      const set = this.#listeners.get(p);
      set?.delete(listener);
      if (set?.size === 0) this.#listeners.delete(p);
      else if (set) empty = false;
    }
    return empty;
  }

  /** The patterns someone listens to (every node's subscriber re-subscribes them on reconnect). */
  active(): string[] {
    return [...this.#listeners.keys()];
  }

  #receive(index: number, pattern: string, message: string, client: boolean): void {
    const listeners = this.#listeners.get(pattern);
    if (!listeners || listeners.size === 0) return;
    const event = parseEvent(message);
    if (event === null) return;
    const now = performance.now();
    this.#forget(now);
    if (client) {
      if (!CLIENT_TYPES.has(event.type)) return;
      const id = `${pattern}\n${/"i":"([^"]+)"/.exec(message)?.[1] ?? message}`;
      if (this.#seen.has(id)) return;
      this.#seen.set(id, now);
      this.#deliver(listeners, event);
      return;
    }
    if (CLIENT_TYPES.has(event.type)) return;
    // by pattern too: each pattern's subscription brings its own copy of every message
    const key = `${pattern}\n${event.type}|${event.name}|${event.fence ?? ''}|${event.permits}|${JSON.stringify(event.owner)}`;
    const changes = this.#changes.get(key) ?? [];
    this.#changes.set(key, changes);
    // A copy joins the oldest change this node has not reported yet (a late copy of one already
    // delivered included), so two equal changes are never merged, nor one counted twice.
    let change = changes.find((c) => !c.nodes.has(index));
    if (change === undefined) {
      change = { nodes: new Set(), since: now, delivered: false };
      changes.push(change);
    }
    change.nodes.add(index);
    if (!change.delivered && change.nodes.size >= this.#quorum) {
      change.delivered = true;
      this.#deliver(listeners, event);
    }
  }

  #deliver(listeners: Set<Listener>, event: BackendEvent): void {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        // A throw here would surface inside ioredis's reply parser and break the connection.
        const detail = error instanceof Error ? error.message : String(error);
        process.emitWarning(`holdfast: a watch listener threw: ${detail}`);
      }
    }
  }

  #forget(now: number): void {
    for (const [id, at] of this.#seen) {
      if (now - at < MATCH_WINDOW_MS) break;
      this.#seen.delete(id);
    }
    for (const [key, changes] of this.#changes) {
      while (changes.length > 0 && now - (changes[0] as Change).since > MATCH_WINDOW_MS) changes.shift();
      if (changes.length === 0) this.#changes.delete(key);
    }
  }

  close(): void {
    this.#listeners.clear();
    for (const connection of this.#connections) connection.disconnect();
  }
}

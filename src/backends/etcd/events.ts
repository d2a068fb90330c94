/**
 * `watch()` on etcd: one etcd watch over the client's whole prefix, started at the revision of
 * a snapshot of every queue, keeps a mirror of the queues; each revision's changes are applied
 * to it and the difference in who holds and who waits becomes events, in revision order:
 * deletions first (`released`, `lost` and `expired` told apart by the mark written with them,
 * or by the holder's lease being gone; `left` for a waiter), then `handoff`s, then new keys
 * (`acquired` or `waiting`). Expiries need no sweep: the cluster deletes the keys of an expired
 * lease itself, and that deletion is a watch event.
 */
import type { Watcher } from 'etcd3';
import type { BackendEvent, EventCapability, LockEventType, LockState } from '../../backend.js';
import { decodeOwner } from '../../owner.js';
import { globToRegExp } from '../../util/glob.js';
import { LOCK_SPACE, parseKey, parseMarkKey, rangeEnd } from './keys.js';
import { grantedCount, type QueueKey } from './queue.js';
import { queueOf } from './queue-of.js';
import type { EtcdRpc, KeyValue } from './rpc.js';

interface WatchEvent {
  readonly type: 'Put' | 'Delete' | number;
  readonly kv: KeyValue;
}

interface Subscriber {
  readonly match: RegExp;
  readonly listener: (event: BackendEvent) => void;
}

export class EtcdEvents implements EventCapability {
  readonly #rpc: EtcdRpc;
  readonly #prefix: string;
  readonly #subscribers = new Set<Subscriber>();
  /** name → its keys, oldest first. */
  readonly #queues = new Map<string, QueueKey[]>();
  #watcher: Watcher | null = null;
  #starting: Promise<void> | null = null;
  #chain: Promise<void> = Promise.resolve();

  readonly #inspect: (name: string) => Promise<LockState | null>;

  constructor(rpc: EtcdRpc, prefix: string, inspect: (name: string) => Promise<LockState | null>) {
    this.#rpc = rpc;
    this.#prefix = prefix;
    this.#inspect = inspect;
  }

  async watch(pattern: string, listener: (event: BackendEvent) => void): Promise<() => Promise<void>> {
    const subscriber: Subscriber = { match: globToRegExp(pattern), listener };
    this.#subscribers.add(subscriber);
    try {
      this.#starting ??= this.#start();
      await this.#starting;
    } catch (error) {
      this.#subscribers.delete(subscriber);
      this.#starting = null;
      throw error;
    }
    return async () => {
      this.#subscribers.delete(subscriber);
      if (this.#subscribers.size === 0) await this.close();
    };
  }

  /**
   * Nothing to purge: the cluster deletes an expired lease's keys, and clients their own expired
   * holders, and the watch sees both. Says when the name's next holder can run out.
   */
  async sweep(name: string): Promise<number | null> {
    const state = await this.#inspect(name);
    if (!state || state.holders.length === 0) return null;
    return Math.min(...state.holders.map((h) => h.expiresIn));
  }

  async close(): Promise<void> {
    const watcher = this.#watcher;
    this.#watcher = null;
    this.#starting = null;
    this.#queues.clear();
    await watcher?.cancel().catch(() => {});
  }

  async #start(): Promise<void> {
    const base = Buffer.from(this.#prefix + LOCK_SPACE);
    const read = await this.#rpc.txn([], [{ request_range: { key: base, range_end: rangeEnd(base) } }], [], 'watch');
    this.#queues.clear();
    const byName = new Map<string, KeyValue[]>();
    for (const kv of read.responses[0]?.response_range?.kvs ?? []) {
      const parsed = parseKey(this.#prefix, kv.key.toString());
      if (parsed) byName.set(parsed.name, [...(byName.get(parsed.name) ?? []), kv]);
    }
    for (const [name, kvs] of byName) this.#queues.set(name, queueOf(this.#prefix, kvs));
    const all = Buffer.from(this.#prefix);
    const watcher = this.#rpc.watchAnywhere(this.#prefix, rangeEnd(all), BigInt(read.header.revision) + 1n);
    this.#watcher = watcher;
    watcher.on('data', (response: { events: WatchEvent[] }) => {
      const events = response.events;
      this.#chain = this.#chain.then(() => this.#apply(events)).catch(() => {});
    });
    // Compacted history or a lost stream: start over from a fresh snapshot.
    watcher.on('error', () => {
      if (this.#watcher !== watcher) return;
      void this.close().then(() => {
        if (this.#subscribers.size > 0) this.#starting = this.#start().catch(() => {});
      });
    });
  }

  async #apply(events: readonly WatchEvent[]): Promise<void> {
    let group: WatchEvent[] = [];
    for (const event of events) {
      if (group.length > 0 && group[0]?.kv.mod_revision !== event.kv.mod_revision) {
        await this.#applyRevision(group);
        group = [];
      }
      group.push(event);
    }
    if (group.length > 0) await this.#applyRevision(group);
  }

  /** The changes of one revision, as events. */
  async #applyRevision(events: readonly WatchEvent[]): Promise<void> {
    const marks = new Map<string, Record<string, string>>();
    const changed = new Map<string, WatchEvent[]>();
    for (const event of events) {
      const key = event.kv.key.toString();
      const marked = parseMarkKey(this.#prefix, key);
      if (marked !== null && isPut(event)) marks.set(marked, parseMarks(event.kv.value));
      const parsed = parseKey(this.#prefix, key);
      if (parsed) changed.set(parsed.name, [...(changed.get(parsed.name) ?? []), event]);
    }
    for (const [name, nameEvents] of changed) await this.#applyName(name, nameEvents, marks.get(name) ?? {});
  }

  async #applyName(name: string, events: readonly WatchEvent[], marks: Record<string, string>): Promise<void> {
    const before = this.#queues.get(name) ?? [];
    const heldBefore = new Set(before.slice(0, grantedCount(before)).map((k) => k.key));
    const after = new Map(before.map((k) => [k.key, k]));
    const added: string[] = [];
    for (const event of events) {
      const key = event.kv.key.toString();
      if (!isPut(event)) {
        after.delete(key);
        continue;
      }
      const fresh = queueOf(this.#prefix, [event.kv])[0];
      if (!fresh) continue;
      if (!after.has(key)) added.push(key);
      after.set(key, fresh);
    }
    const queue = [...after.values()];
    queue.sort((a, b) => (a.createRevision < b.createRevision ? -1 : 1));
    if (queue.length > 0) this.#queues.set(name, queue);
    else this.#queues.delete(name);
    const heldAfter = new Set(queue.slice(0, grantedCount(queue)).map((k) => k.key));
    for (const gone of before.filter((k) => !after.has(k.key))) {
      const type = heldBefore.has(gone.key) ? await this.#endOf(gone, marks) : 'left';
      this.#emit(name, type, gone);
    }
    for (const key of queue) {
      if (!added.includes(key.key) && heldAfter.has(key.key) && !heldBefore.has(key.key))
        this.#emit(name, 'handoff', key);
    }
    for (const key of queue) {
      if (added.includes(key.key)) this.#emit(name, heldAfter.has(key.key) ? 'acquired' : 'waiting', key);
    }
  }

  /** How a holder's key went: marked by the client that deleted it, or with its lease, or released. */
  async #endOf(key: QueueKey, marks: Record<string, string>): Promise<LockEventType> {
    const mark = marks[key.token];
    if (mark === 'lost' || mark === 'expired') return mark;
    const ttl = await this.#rpc.timeToLive(key.lease).catch(() => 1);
    return ttl <= 0 ? 'expired' : 'released';
  }

  #emit(name: string, type: LockEventType, key: QueueKey): void {
    const holds = type === 'acquired' || type === 'handoff';
    const holderEvent = holds || type === 'released' || type === 'expired' || type === 'lost';
    const event: BackendEvent = {
      type,
      name,
      kind: key.entry.kind,
      fence: holderEvent ? key.createRevision : null,
      permits: key.entry.permits,
      owner: decodeOwner(key.entry.owner),
      at: Date.now(),
      expiresIn: type === 'acquired' ? key.entry.ttl : type === 'handoff' ? key.entry.claimTtl : null,
    };
    for (const subscriber of this.#subscribers) {
      if (subscriber.match.test(name)) subscriber.listener(event);
    }
  }
}

function isPut(event: WatchEvent): boolean {
  return event.type === 'Put' || event.type === 0;
}

function parseMarks(value: Buffer): Record<string, string> {
  try {
    const parsed = JSON.parse(value.toString()) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

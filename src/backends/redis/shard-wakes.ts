/**
 * Wake-ups by sharded pub/sub on a Redis Cluster (≥ 7.0): while this client has a waiter on a
 * name, it SSUBSCRIBEs the name's shard channel (keys.ts `shardWakeChannel`, in the slot of the
 * name's keys) on the name's master, and its waiters there send their client id marked with
 * SHARD_WAKE_MARK, so the scripts SPUBLISH their wake-ups on that channel
 * (scripts/includes/wake.lua). A plain PUBLISH crosses the cluster bus to every node; SPUBLISH
 * stays on the master that ran the script and reaches this one connection.
 *
 * Never a lost wake-up: a waiter's address is marked only once the server has confirmed the
 * subscription, so until then its wake-ups go by PUBLISH to the client's one subscriber, which
 * stays (it also carries events). When a subscription becomes active (new, moved to another
 * master, or back after a reconnect), every waiter of the name asks once more: that marks its
 * address, and an ask of a token that was granted meanwhile answers with the grant.
 *
 * A subscription is kept while the name is waited on and IDLE_MS after, at most MAX_IDLE idle
 * ones; a slot that moves (reshard, failover: `moved`) takes its subscriptions along. Servers
 * without SSUBSCRIBE (Redis < 7) are noticed at the first try: PUBLISH from then on.
 */
import type { Cluster } from 'ioredis';
import { slotOf } from './cluster.js';
import { SHARD_WAKE_MARK, shardWakeChannel } from './keys.js';
import { ShardConnections } from './shard-connections.js';

/** How long a subscription outlives its name's last waiter: waiting there again soon costs nothing. */
const IDLE_MS = 5000;
/** Idle subscriptions kept at most; beyond, the longest idle go first. */
const MAX_IDLE = 256;
/** How often lapsed waiters, idle subscriptions, missed moves and unused connections are seen to. */
const SWEEP_MS = 1000;

export interface ShardWakesParts {
  readonly cluster: Cluster;
  readonly prefix: string;
  readonly clientId: string;
  readonly timeout: number;
  /** A wake-up heard on a shard channel (the payload drain.lua sends). */
  readonly onMessage: (message: string) => void;
  /** Makes a waiter ask again: a wake-up for it may have gone where nobody listened. */
  readonly askAgain: (token: string) => void;
}

interface Entry {
  readonly name: string;
  readonly channel: string;
  readonly slot: number;
  /** The master (`host:port`) the server confirmed the subscription on; null: not listening. */
  node: string | null;
  /** The master a subscription was sent to and not yet confirmed; null: none in flight. */
  pending: string | null;
  /** Bumped by every (un)subscription, so a late confirmation of an older one is ignored. */
  attempt: number;
  /** This client's tokens queued on the name, with the local time (ms) their entry lapses. */
  readonly waiting: Map<string, number>;
}

export class ShardWakes {
  readonly #parts: ShardWakesParts;
  readonly #connections: ShardConnections;
  readonly #marked: string;
  readonly #byName = new Map<string, Entry>();
  readonly #byChannel = new Map<string, Entry>();
  readonly #byToken = new Map<string, Entry>();
  /** Entries nobody waits on, by name, with when they became idle (local ms): oldest first. */
  readonly #idle = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  /** The servers refused SSUBSCRIBE (Redis < 7): PUBLISH only. */
  #unsupported = false;
  #closed = false;

  constructor(parts: ShardWakesParts) {
    this.#parts = parts;
    this.#marked = SHARD_WAKE_MARK + parts.clientId;
    this.#connections = new ShardConnections(parts.cluster, parts.timeout, {
      message: (channel, message) => {
        if (this.#byChannel.has(channel)) parts.onMessage(message);
      },
      dropped: (node) => {
        for (const entry of this.#byName.values()) if (entry.node === node) entry.node = null;
      },
      reconnected: (node) => {
        for (const entry of this.#byName.values()) {
          if (entry.node === null && entry.pending === null && this.#masterOf(entry) === node) this.#subscribe(entry);
        }
      },
      unsubscribed: () => parts.cluster.refreshSlotsCache(),
    });
  }

  /** The client id a waiter on `name` sends: marked when this client listens on the name's shard channel. */
  address(name: string): string {
    return this.#byName.get(name)?.node ? this.#marked : this.#parts.clientId;
  }

  /** A waiter's answer: queued at `position` (≥ 0) for `waiterTtl` ms from now, or waiting no more (-1). */
  answered(name: string, token: string, position: number, waiterTtl: number): void {
    if (position >= 0) this.#queued(name, token, waiterTtl);
    else this.left(token);
  }

  /** `token` is queued on `name` for `waiterTtl` ms from now: listen on the name's channel. */
  #queued(name: string, token: string, waiterTtl: number): void {
    if (this.#unsupported || this.#closed) return;
    let entry = this.#byName.get(name);
    if (entry === undefined) {
      const channel = shardWakeChannel(this.#parts.prefix, name, this.#parts.clientId);
      entry = {
        name,
        channel,
        slot: slotOf(channel),
        node: null,
        pending: null,
        attempt: 0,
        waiting: new Map(),
      };
      this.#byName.set(name, entry);
      this.#byChannel.set(channel, entry);
    }
    this.#byToken.set(token, entry);
    entry.waiting.set(token, performance.now() + waiterTtl);
    this.#idle.delete(name);
    if (entry.node === null && entry.pending === null) this.#subscribe(entry);
    this.#timer ??= setInterval(() => this.#sweep(), SWEEP_MS).unref();
  }

  /** `token` waits no more (granted, left, released). */
  left(token: string): void {
    const entry = this.#byToken.get(token);
    if (entry === undefined) return;
    this.#byToken.delete(token);
    entry.waiting.delete(token);
    if (entry.waiting.size === 0) this.#idled(entry, performance.now());
  }

  /** These slots changed master: their subscriptions follow them, and their waiters ask again. */
  moved(slots: ReadonlySet<number>): void {
    for (const entry of this.#byName.values()) {
      if (!slots.has(entry.slot)) continue;
      const master = this.#masterOf(entry);
      if (entry.node === master || entry.pending === master) continue;
      if (entry.waiting.size === 0) this.#forget(entry);
      else this.#subscribe(entry);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#connections.close();
  }

  #masterOf(entry: Entry): string | undefined {
    return this.#parts.cluster.slots[entry.slot]?.[0];
  }

  /** SSUBSCRIBE on the slot's master (leaving the old one); once confirmed, the waiters ask again. */
  #subscribe(entry: Entry): void {
    const master = this.#masterOf(entry);
    const old = entry.node ?? entry.pending;
    if (old !== null && old !== master) this.#connections.unsubscribe(old, entry.channel);
    entry.node = null;
    entry.pending = null;
    const attempt = ++entry.attempt;
    const sent = master === undefined ? null : this.#connections.subscribe(master, entry.channel);
    if (master === undefined || sent === null) return; // the sweep tries again once the map knows it
    entry.pending = master;
    sent.then(
      () => {
        if (entry.attempt !== attempt || this.#closed) return;
        entry.pending = null;
        entry.node = master;
        for (const token of entry.waiting.keys()) this.#parts.askAgain(token);
      },
      (error: unknown) => {
        if (entry.attempt !== attempt) return;
        entry.pending = null;
        if (error instanceof Error && /unknown command/i.test(error.message)) this.#giveUp();
      },
    );
  }

  /** Stops listening on the entry's channel and forgets it. */
  #forget(entry: Entry): void {
    entry.attempt++;
    const node = entry.node ?? entry.pending;
    if (node !== null) this.#connections.unsubscribe(node, entry.channel);
    this.#byName.delete(entry.name);
    this.#byChannel.delete(entry.channel);
    this.#idle.delete(entry.name);
    for (const token of entry.waiting.keys()) this.#byToken.delete(token);
  }

  /** No server here has sharded pub/sub: every waiter is woken by PUBLISH, as it is already. */
  #giveUp(): void {
    this.#unsupported = true;
    for (const entry of [...this.#byName.values()]) this.#forget(entry);
    this.#connections.prune(new Set());
  }

  /** Nobody waits on `entry` since `now`: it is kept IDLE_MS, and only the MAX_IDLE latest. */
  #idled(entry: Entry, now: number): void {
    this.#idle.set(entry.name, now);
    if (this.#idle.size <= MAX_IDLE) return;
    const oldest = this.#byName.get(this.#idle.keys().next().value ?? '');
    if (oldest) this.#forget(oldest);
  }

  /**
   * Drops waiters whose queue entry lapsed (they stopped asking, so the server dropped them
   * too), idle subscriptions past IDLE_MS, and connections no subscription uses; re-subscribes
   * what a failed SSUBSCRIBE or an unnoticed move left unheard.
   */
  #sweep(): void {
    const now = performance.now();
    for (const entry of this.#byName.values()) {
      for (const [token, lapse] of entry.waiting) {
        if (lapse > now) continue;
        entry.waiting.delete(token);
        this.#byToken.delete(token);
        if (entry.waiting.size === 0) this.#idled(entry, now);
      }
      if (entry.waiting.size > 0 && entry.pending === null && entry.node !== this.#masterOf(entry)) {
        this.#subscribe(entry);
      }
    }
    for (const [name, since] of this.#idle) {
      if (now - since < IDLE_MS) break;
      const entry = this.#byName.get(name);
      if (entry) this.#forget(entry);
    }
    const used = new Set<string>();
    for (const entry of this.#byName.values()) {
      for (const node of [entry.node, entry.pending, this.#masterOf(entry)]) if (node) used.add(node);
    }
    this.#connections.prune(used);
    if (this.#byName.size === 0 && this.#connections.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}

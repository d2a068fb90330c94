/**
 * The watch each of this client's waiters keeps on the key (or the few holder keys) that blocks
 * it (./queue.ts `watchTarget`). A waiter at the head learns from the deletions alone that it
 * holds (`granted`: the wake-up carries the grant, no second round trip); one further back
 * learns that the key ahead moved (`moved`), and the backend looks at the queue as of that
 * revision. A deletion of any other key wakes nobody here, so a release
 * costs one wake-up, not a herd. Every watch starts right after the revision the waiter's
 * answer was read at, so nothing in between is missed; all share the etcd client's one stream.
 */
import type { Watcher } from 'etcd3';
import { namePrefix, rangeEnd } from './keys.js';
import type { WatchTarget } from './queue.js';
import type { EtcdRpc, KeyValue } from './rpc.js';

/** A waiter of this client, as its latest answer saw it. */
export interface Waiting {
  readonly name: string;
  readonly token: string;
  readonly key: string;
  /** Its create revision: its fence once it holds. */
  readonly fence: bigint;
  readonly lease: string;
  readonly ttl: number;
  readonly claimTtl: number;
}

export interface WaitListeners {
  /** Its watch failed, and a change may have been missed: ask again. */
  wake(token: string): void;
  /** It stopped asking for longer than its waiterTtl: it leaves the queue. */
  expired(waiting: Waiting): void;
  /** The key ahead of it changed at `revision`: look at the queue then. */
  moved(waiting: Waiting, revision: bigint): void;
  /**
   * It holds now (every key ahead that kept it out is gone). `others`: holders are still ahead
   * of it, or its permits leave room, so the waiter behind it may have to move too.
   */
  granted(waiting: Waiting, others: boolean): void;
}

export class Waits {
  readonly #rpc: EtcdRpc;
  readonly #prefix: string;
  readonly #listeners: WaitListeners;
  readonly #watchers = new Map<string, Watcher>();
  /** Every waiter still waiting, also between a watch that fired and the next one. */
  readonly #current = new Map<string, Waiting>();
  /** When each waiter's entry runs out unless it asks again. */
  readonly #expiries = new Map<string, NodeJS.Timeout>();

  constructor(rpc: EtcdRpc, prefix: string, listeners: WaitListeners) {
    this.#rpc = rpc;
    this.#prefix = prefix;
    this.#listeners = listeners;
  }

  /** Watches `target` for `waiting` from after `revision` on; replaces its old watch. */
  watch(waiting: Waiting, target: WatchTarget, revision: bigint): void {
    const { token } = waiting;
    this.drop(token);
    this.#current.set(token, waiting);
    const from = revision + 1n;
    let watcher: Watcher;
    if (target.kind === 'behind') {
      watcher = this.#rpc.watch(target.key, null, from);
      const moved = (kv: KeyValue): void => {
        if (this.#take(token, watcher)) this.#listeners.moved(waiting, BigInt(kv.mod_revision));
      };
      watcher.on('put', moved);
      watcher.on('delete', moved);
    } else {
      const ahead = new Map(target.ahead);
      const single = ahead.size === 1 ? [...ahead.keys()][0] : undefined;
      const prefix = namePrefix(this.#prefix, waiting.name);
      watcher = single
        ? this.#rpc.watch(single, null, from)
        : this.#rpc.watch(prefix, rangeEnd(Buffer.from(prefix)), from);
      watcher.on('delete', (kv: KeyValue) => {
        ahead.delete(kv.key.toString());
        let used = 0;
        for (const permits of ahead.values()) used += permits;
        if (used + target.permits > target.limit || !this.#take(token, watcher)) return;
        this.#listeners.granted(waiting, ahead.size > 0 || target.permits < target.limit);
      });
    }
    // A watch that fails (compacted history) or loses its stream (its member is gone: a watch
    // on the leader stays on it) may miss the change: ask again.
    const failed = (): void => {
      if (this.#take(token, watcher)) this.#listeners.wake(token);
    };
    watcher.on('error', failed);
    watcher.on('disconnected', failed);
    this.#watchers.set(token, watcher);
  }

  /** The waiter `token` leaves the queue at `at` (performance.now()) unless it asks again first. */
  expireAfter(token: string, at: number): void {
    clearTimeout(this.#expiries.get(token));
    const timer = setTimeout(
      () => {
        this.#expiries.delete(token);
        const waiting = this.#current.get(token);
        if (!waiting) return;
        this.drop(token);
        this.#listeners.expired(waiting);
      },
      Math.max(0, at - performance.now()),
    );
    timer.unref();
    this.#expiries.set(token, timer);
  }

  /** Every waiter asks again (its watch may sit on a member that hears nothing any more). */
  wakeAll(): void {
    for (const token of [...this.#current.keys()]) {
      const watcher = this.#watchers.get(token);
      if (watcher && this.#take(token, watcher)) this.#listeners.wake(token);
    }
  }

  /** The waiter `token` as it was last watched, while it still waits here. */
  current(token: string): Waiting | undefined {
    return this.#current.get(token);
  }

  /** Stops watching for `token`: it holds, or left. */
  drop(token: string): void {
    this.#current.delete(token);
    clearTimeout(this.#expiries.get(token));
    this.#expiries.delete(token);
    this.#unwatch(token);
  }

  #unwatch(token: string): void {
    const watcher = this.#watchers.get(token);
    if (!watcher) return;
    this.#watchers.delete(token);
    watcher.cancel().catch(() => {});
  }

  has(token: string): boolean {
    return this.#current.has(token);
  }

  close(): void {
    for (const token of [...this.#current.keys()]) this.drop(token);
  }

  /** Ends the watch if it is still the waiter's current one; false when it was replaced. */
  #take(token: string, watcher: Watcher): boolean {
    if (this.#watchers.get(token) !== watcher) return false;
    this.#unwatch(token);
    return true;
  }
}

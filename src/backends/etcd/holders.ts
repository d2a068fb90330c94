/**
 * The holders this client was granted, each freed at its own `ttl` unless renewed. The etcd
 * lease they share lives as long as the client keeps it alive, so the cluster frees a holder only
 * when its whole client stops (crash, pause, partition); a holder that just stops renewing
 * (`autoExtend: false`, `detach()`) is freed here, by deleting its key with an `expired` mark.
 * Deletions that fail are retried until the cluster answers: a key left behind would hold (or
 * queue) for as long as this client runs.
 */
import type { Marks } from './marks.js';
import type { EtcdRpc } from './rpc.js';

/** Backoff of a retried deletion, ms. */
const RETRY_MIN = 100;
const RETRY_MAX = 2000;

interface Held {
  readonly name: string;
  readonly key: string;
  readonly lease: string;
  /** performance.now() when it is freed unless renewed. */
  readonly due: number;
  readonly timer: NodeJS.Timeout;
}

export class Holders {
  readonly #rpc: EtcdRpc;
  readonly #marks: Marks;
  readonly #held = new Map<string, Held>();
  readonly #retries = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(rpc: EtcdRpc, marks: Marks) {
    this.#rpc = rpc;
    this.#marks = marks;
  }

  /**
   * Tracks holder `token`, to be freed at `ttl` ms from `from` (performance.now()) unless
   * renewed. Never earlier than it was already due: answers can arrive out of order, and a
   * deletion later than the client's own deadline is always safe, an earlier one never.
   */
  hold(name: string, token: string, key: string, lease: string, ttl: number, from: number): void {
    const old = this.#held.get(token);
    const due = Math.max(from + ttl, old?.due ?? 0);
    if (old) clearTimeout(old.timer);
    const timer = setTimeout(() => this.#expire(token), Math.max(0, due - performance.now()));
    timer.unref();
    this.#held.set(token, { name, key, lease, due, timer });
  }

  has(token: string): boolean {
    return this.#held.has(token);
  }

  /** Stops tracking a holder; whether it was one. */
  unhold(token: string): boolean {
    const held = this.#held.get(token);
    if (!held) return false;
    clearTimeout(held.timer);
    this.#held.delete(token);
    return true;
  }

  /** Deletes `key`, retrying with backoff until the cluster answers (or the client closes). */
  deleteLater(key: Buffer, delay = RETRY_MIN): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#retries.delete(timer);
      this.#rpc.txn([], [{ request_delete_range: { key } }], [], 'a retried deletion').catch(() => {
        this.deleteLater(key, Math.min(delay * 2, RETRY_MAX));
      });
    }, delay);
    timer.unref();
    this.#retries.add(timer);
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#retries) clearTimeout(timer);
    for (const token of [...this.#held.keys()]) this.unhold(token);
  }

  #expire(token: string): void {
    const held = this.#held.get(token);
    if (!held) return;
    this.#held.delete(token);
    this.#marks.expire(held.name, held.key, token, held.lease).catch(() => this.deleteLater(Buffer.from(held.key)));
  }
}

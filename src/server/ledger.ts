/**
 * What one connection has in the store, for its limits: the tokens it holds or queues (each
 * until the TTL the store was given, so a lease that expired unreleased stops counting then)
 * and the rate limiters it touched (until their window passed). Counts err on the high side:
 * a lease force-released by someone else counts until its own TTL.
 */

interface TokenUse {
  readonly name: string;
  readonly queued: boolean;
  readonly until: number;
}

export class Ledger {
  readonly #tokens = new Map<string, TokenUse>();
  /** Rate limiter names touched by tries or admissions, until their window has passed. */
  readonly #rates = new Map<string, number>();
  /** Uses per name, tokens and rate touches alike: its size is the number of names. */
  readonly #refs = new Map<string, number>();
  #queued = 0;

  /**
   * Whether one more use of `name` would make more than `max` names. `now` is read only when
   * the count is at the limit (then expired uses are pruned first).
   */
  tooManyNames(name: string, max: number, now: () => number): boolean {
    if (this.#refs.has(name) || this.#refs.size < max) return false;
    this.prune(now());
    return !this.#refs.has(name) && this.#refs.size >= max;
  }

  /** Whether queueing `token` would make more than `max` queued waiters (`now` as above). */
  tooManyWaiters(token: string, max: number, now: () => number): boolean {
    if (this.#tokens.get(token)?.queued === true || this.#queued < max) return false;
    this.prune(now());
    return this.#queued >= max;
  }

  isQueued(token: string): boolean {
    return this.#tokens.get(token)?.queued === true;
  }

  /** `token` holds or waits for `name` until `until` (server monotonic ms). */
  note(token: string, name: string, queued: boolean, until: number): void {
    this.drop(token);
    this.#tokens.set(token, { name, queued, until });
    if (queued) this.#queued++;
    this.#ref(name, 1);
  }

  drop(token: string): void {
    const use = this.#tokens.get(token);
    if (!use) return;
    this.#tokens.delete(token);
    if (use.queued) this.#queued--;
    this.#ref(use.name, -1);
  }

  /** A rate limiter `name` keeps state for this connection's takes until `until`. */
  touchRate(name: string, until: number): void {
    const before = this.#rates.get(name);
    if (before === undefined) this.#ref(name, 1);
    this.#rates.set(name, Math.max(before ?? 0, until));
  }

  /** Forgets every use whose time has passed. */
  prune(now: number): void {
    for (const [token, use] of this.#tokens) if (use.until <= now) this.drop(token);
    for (const [name, until] of this.#rates) {
      if (until > now) continue;
      this.#rates.delete(name);
      this.#ref(name, -1);
    }
  }

  #ref(name: string, delta: number): void {
    const count = (this.#refs.get(name) ?? 0) + delta;
    if (count > 0) this.#refs.set(name, count);
    else this.#refs.delete(name);
  }
}

/**
 * The value keys this server has set and not yet seen expire, for the `maxValues` limit. It
 * counts what passes through this server only: several servers fronting one Redis count apart.
 */
import { realClock } from '../util/clock.js';

export class ValueCount {
  readonly #until = new Map<string, number>();

  /** Whether storing `key` for `ttl` ms keeps within `max` keys; counts it if so. */
  admit(key: string, ttl: number, max: number): boolean {
    const now = realClock.now();
    if (!this.#until.has(key) && this.#until.size >= max) {
      for (const [known, until] of this.#until) if (until <= now) this.#until.delete(known);
      if (this.#until.size >= max) return false;
    }
    this.#until.set(key, now + ttl);
    return true;
  }
}

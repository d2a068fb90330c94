import type { Clock, Timer } from '../../util/clock.js';

interface Entry {
  readonly value: string;
  readonly expiresAt: number;
  readonly timer: Timer;
}

/**
 * The memory backend's value store (for `cached()`): strings under keys, each dropped when its
 * TTL runs out on the store's clock, so a `FakeClock` drives it in tests like every lock.
 */
export class ValueTable {
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get(key: string): string | undefined {
    const entry = this.#entries.get(key);
    return entry !== undefined && this.#clock.now() < entry.expiresAt ? entry.value : undefined;
  }

  set(key: string, value: string, ttl: number): void {
    this.#entries.get(key)?.timer.cancel();
    const timer = this.#clock.setTimer(() => this.#entries.delete(key), ttl);
    this.#entries.set(key, { value, expiresAt: this.#clock.now() + ttl, timer });
  }

  /** How many values are stored (expired ones whose timer has not run yet included). */
  get size(): number {
    return this.#entries.size;
  }
}

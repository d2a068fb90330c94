import type { Clock } from '../util/clock.js';
import type { TakeResult } from './rate-limiter.js';

/**
 * Remembers the backend's last refusal (rate-limiter-flexible's "in-memory block"): until its
 * `retryAfter` has passed, a try for at least as much is refused here, with no round trip.
 * The answer could not change sooner: room in a window only appears as time passes, and other
 * processes' admissions only take it. It never admits anything itself, so it cannot
 * over-admit; at worst a try is refused until the moment the backend named.
 */
export class RefusalMemory {
  readonly #clock: Clock;
  /** Local time before which `#cost` or more is refused; 0 when nothing is remembered. */
  #until = 0;
  #cost = Number.POSITIVE_INFINITY;
  #refusal: TakeResult | null = null;
  #answeredAt = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The remembered refusal for `cost`, brought up to date, or null to ask the backend. */
  answer(cost: number): TakeResult | null {
    const now = this.#clock.now();
    const refusal = this.#refusal;
    if (!refusal || now >= this.#until || cost < this.#cost) return null;
    return {
      ...refusal,
      retryAfter: Math.ceil(this.#until - now),
      at: refusal.at + Math.floor(now - this.#answeredAt),
    };
  }

  /** Learns from the backend's answer to a try for `cost` sent at local time `requestedAt`. */
  learn(cost: number, requestedAt: number, result: TakeResult): void {
    if (result.allowed || result.retryAfter <= 0) {
      this.#refusal = null;
      this.#until = 0;
      return;
    }
    // From the send time: the backend decided later, so this never outlasts its own answer.
    this.#until = requestedAt + result.retryAfter;
    this.#cost = cost;
    this.#refusal = result;
    this.#answeredAt = this.#clock.now();
  }
}

import type { WakeListener } from '../../backend.js';
import { type Clock, realClock } from '../../util/clock.js';
import { EventHub } from './events.js';
import { LockTable } from './locks.js';
import { RateTable } from './rates.js';
import type { StoreServices } from './services.js';
import { ValueTable } from './values.js';

/**
 * The in-process backend's state. Several clients share one store via
 * `connect({ memory: store })`; expiry runs on the store's clock (a `FakeClock` in tests).
 */
export class MemoryStore {
  readonly clock: Clock;
  /** @internal */
  readonly locks: LockTable;
  /** @internal */
  readonly rates: RateTable;
  /** @internal */
  readonly values: ValueTable;
  /** @internal */
  readonly events = new EventHub();
  readonly #clients = new Map<string, WakeListener>();
  #lastFence = 0n;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? realClock;
    const services: StoreServices = {
      clock: this.clock,
      events: this.events,
      nextFence: () => this.#nextFence(),
      wake: (clientId, token, grant) => {
        const wake = this.#clients.get(clientId);
        // Asynchronous like a pub/sub message: the waker's own operation completes first.
        if (wake) queueMicrotask(() => wake(token, grant));
      },
    };
    this.locks = new LockTable(services);
    this.rates = new RateTable(services);
    this.values = new ValueTable(this.clock);
  }

  /** @internal */
  attach(clientId: string, onWake: WakeListener): void {
    this.#clients.set(clientId, onWake);
  }

  /** @internal */
  detach(clientId: string): void {
    this.#clients.delete(clientId);
  }

  #nextFence(): bigint {
    const micros = BigInt(Math.floor(this.clock.wallMicros()));
    this.#lastFence = this.#lastFence + 1n > micros ? this.#lastFence + 1n : micros;
    return this.#lastFence;
  }
}

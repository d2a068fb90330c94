import type { WakeListener } from '../../backend.js';
import { type Clock, realClock } from '../../util/clock.js';
import { EventHub } from './events.js';
import { registerInternals } from './internals.js';
import { LockTable } from './locks.js';
import { RateTable } from './rates.js';
import type { StoreServices } from './services.js';
import { ValueTable } from './values.js';

/**
 * The in-process backend's state. Several clients share one store via
 * `connect({ memory: store })`; expiry runs on the store's clock (a `FakeClock` in tests).
 * Its tables are the memory backend's business only (./internals.ts), not part of this shape.
 */
export class MemoryStore {
  readonly clock: Clock;
  #lastFence = 0n;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? realClock;
    const clients = new Map<string, { readonly onWake: WakeListener; readonly inline: boolean }>();
    const events = new EventHub();
    const services: StoreServices = {
      clock: this.clock,
      events,
      nextFence: () => this.#nextFence(),
      wake: (clientId, token, grant) => {
        const client = clients.get(clientId);
        if (!client) return;
        const { onWake, inline } = client;
        // Asynchronous like a pub/sub message, so the waker's own operation completes first:
        // a listener may call back into this store. One that only passes it on need not wait.
        if (inline) onWake(token, grant);
        else queueMicrotask(() => onWake(token, grant));
      },
    };
    registerInternals(this, {
      locks: new LockTable(services),
      rates: new RateTable(services),
      values: new ValueTable(this.clock),
      events,
      attach: (clientId, onWake, inline) => clients.set(clientId, { onWake, inline }),
      detach: (clientId) => clients.delete(clientId),
    });
  }

  #nextFence(): bigint {
    const micros = BigInt(Math.floor(this.clock.wallMicros()));
    this.#lastFence = this.#lastFence + 1n > micros ? this.#lastFence + 1n : micros;
    return this.#lastFence;
  }
}

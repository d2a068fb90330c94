import type { BackendEvent, EventCapability, EventKind, LockEventType } from '../backend.js';
import { requireCapability } from '../capabilities.js';
import { asBackendError } from '../errors.js';
import type { Json } from '../owner.js';
import type { Timer } from '../util/clock.js';
import type { ClientCore } from './core.js';

/** A change to a lock, semaphore, read-write lock, election or rate limiter. */
export interface LockEvent {
  readonly type: LockEventType;
  readonly name: string;
  readonly kind: EventKind;
  /** The grant's fence for holder events; null for waiter and rate-limiter events. */
  readonly fence: bigint | null;
  readonly permits: number;
  /** What the holder or waiter attached as `owner`, or null. */
  readonly owner: Json;
  /** Backend wall clock, ms since the epoch. */
  readonly at: number;
  /** For `acquired` / `handoff`: ms until the grant expires unless renewed; else null. */
  readonly expiresIn: number | null;
}

/** Events beyond this many, unread, push out the oldest (counted in `dropped`). */
const MAX_BUFFERED = 10_000;

/**
 * An async iterable of lock-change events for names matching a glob. The subscription starts
 * at once (await `ready` to know it is active). Expiries are reported even when nobody touches
 * the name: the stream sweeps each name it knows of when its grant is due to run out.
 */
export class EventStream implements AsyncIterableIterator<LockEvent> {
  /** Resolves once the backend delivers events to this stream. */
  readonly ready: Promise<void>;
  /** Events pushed out of a full buffer because nobody read them. */
  dropped = 0;
  readonly #core: ClientCore;
  readonly #events: EventCapability;
  readonly #signal: AbortSignal | undefined;
  readonly #buffer: LockEvent[] = [];
  readonly #readers: ((result: IteratorResult<LockEvent>) => void)[] = [];
  readonly #sweeps = new Map<string, Timer>();
  #unsubscribe: (() => Promise<void>) | null = null;
  #closed = false;

  /**
   * @internal use `hf.watch(pattern, options)`. Throws UnsupportedError at once when the
   * backend has no events.
   */
  constructor(core: ClientCore, pattern: string, signal?: AbortSignal) {
    this.#events = requireCapability(core.backend, 'events', `watch("${pattern}")`);
    this.#core = core;
    this.#signal = signal;
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.ready = this.#start(pattern);
    // A failed start surfaces through next(); do not let it become an unhandled rejection.
    this.ready.catch(() => {});
  }

  async next(): Promise<IteratorResult<LockEvent>> {
    await this.ready;
    const event = this.#buffer.shift();
    if (event) return { value: event, done: false };
    if (this.#closed) return { value: undefined, done: true };
    return new Promise((resolve) => this.#readers.push(resolve));
  }

  async return(): Promise<IteratorResult<LockEvent>> {
    await this.close();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the stream: pending and later `next()` calls report done. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#core.forget(this);
    for (const timer of this.#sweeps.values()) timer.cancel();
    this.#sweeps.clear();
    for (const reader of this.#readers.splice(0)) reader({ value: undefined, done: true });
    await this.#unsubscribe?.().catch(() => {});
  }

  readonly #onAbort = (): void => {
    void this.close();
  };

  async #start(pattern: string): Promise<void> {
    this.#core.remember(this);
    try {
      this.#unsubscribe = await this.#events.watch(pattern, (event) => this.#deliver(event));
      if (this.#closed) await this.#unsubscribe();
      // Holders granted before we subscribed: sweep each once to learn when it expires.
      for (const name of await this.#core.backend.list(pattern)) this.#sweep(name);
    } catch (error) {
      await this.close();
      throw asBackendError(error, `watch "${pattern}"`);
    }
  }

  #deliver(event: BackendEvent): void {
    if (this.#closed) return;
    if (event.expiresIn !== null && event.kind !== 'rate-limiter') this.#sweepIn(event.name, event.expiresIn + 1);
    const reader = this.#readers.shift();
    if (reader) {
      reader({ value: event, done: false });
      return;
    }
    if (this.#buffer.length >= MAX_BUFFERED) {
      this.#buffer.shift();
      this.dropped++;
    }
    this.#buffer.push(event);
  }

  #sweepIn(name: string, ms: number): void {
    this.#sweeps.get(name)?.cancel();
    this.#sweeps.set(
      name,
      this.#core.clock.setTimer(() => this.#sweep(name), ms),
    );
  }

  /** Purges `name` on the backend (which publishes `expired`) and follows its next expiry. */
  #sweep(name: string): void {
    this.#sweeps.delete(name);
    if (this.#closed) return;
    this.#events.sweep(name).then(
      (next) => {
        if (next !== null && !this.#closed) this.#sweepIn(name, next + 1);
      },
      // A failed sweep only delays the report to the next operation on the name.
      () => {},
    );
  }
}

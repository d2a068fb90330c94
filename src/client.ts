import type { Capabilities, LockState } from './backend.js';
import type { ClientCore } from './engine/core.js';
import { EventStream } from './engine/watch.js';
import { asBackendError } from './errors.js';
import { Election, type ElectionOptions } from './primitives/election.js';
import { Mutex, type MutexOptions } from './primitives/mutex.js';
import { RateLimiter, type RateLimiterOptions } from './primitives/rate-limiter.js';
import { RwLock, type RwLockOptions } from './primitives/rwlock.js';
import { Semaphore, type SemaphoreOptions } from './primitives/semaphore.js';
import { checkName, checkOptions, checkSignal, optional } from './util/validate.js';

/** Each client's core, for the recipes (`cached` needs the backend's value store). */
const cores = new WeakMap<Holdfast, ClientCore>();

/** @internal The engine behind a client: not public API (not exported by the package). */
export function coreOf(hf: Holdfast): ClientCore {
  const core = cores.get(hf);
  if (core === undefined) throw new Error('not a connected Holdfast client');
  return core;
}

/**
 * A connection to one backend; the factory for every primitive. Create it with `connect()`.
 * `close()` releases this client's leases, leaves its queues and closes its connections.
 */
export class Holdfast {
  readonly #core: ClientCore;

  /** @internal use `connect()`. */
  constructor(core: ClientCore) {
    this.#core = core;
    cores.set(this, core);
  }

  /** A lock with one holder at a time. Cheap: no I/O until you acquire. */
  mutex(name: string, options?: MutexOptions): Mutex {
    return new Mutex(this.#core, name, options);
  }

  /** A pool of `options.permits`; each lease takes one or more. Cheap: no I/O until you acquire. */
  semaphore(name: string, options: SemaphoreOptions): Semaphore {
    return new Semaphore(this.#core, name, options);
  }

  /** Many readers or one writer (writer-preferring): `.read` and `.write` lock like a mutex. */
  rwlock(name: string, options?: RwLockOptions): RwLock {
    return new RwLock(this.#core, name, options);
  }

  /** At most `limit` per `window` ms across every process; `tryTake()` or wait with `take()`. */
  rateLimiter(name: string, options: RateLimiterOptions): RateLimiter {
    return new RateLimiter(this.#core, name, options);
  }

  /** Leader election: `campaign()` resolves with a fenced lease when this process leads. */
  election(name: string, options?: ElectionOptions): Election {
    return new Election(this.#core, name, options);
  }

  /**
   * Lock-change events for names matching a glob, as an async iterable, until `signal` aborts or
   * the loop breaks. All watches share the client's one subscriber connection.
   */
  watch(pattern: string, options?: { readonly signal?: AbortSignal }): EventStream {
    checkName(pattern, 'pattern');
    const raw = checkOptions<{ signal?: AbortSignal }>(options, ['signal'], 'watch options');
    const signal = optional(raw.signal, (v) => checkSignal(v));
    this.#core.assertOpen();
    return new EventStream(this.#core, pattern, signal);
  }

  /** Who holds and who waits for `name` right now, or null when nobody does. */
  async inspect(name: string): Promise<LockState | null> {
    checkName(name);
    this.#core.assertOpen();
    return this.#call(`inspect of "${name}"`, () => this.#core.backend.inspect(name));
  }

  /** Names that are held or waited for and match a glob (`*`, `?`; default all). */
  async list(pattern = '*'): Promise<string[]> {
    checkName(pattern, 'pattern');
    this.#core.assertOpen();
    return this.#call('list', () => this.#core.backend.list(pattern));
  }

  /**
   * Frees `name` whoever holds it (the restoring-state tool): its holders learn at their next
   * renewal that they lost it, and the queue is served. Returns how many holders were removed.
   */
  async forceRelease(name: string): Promise<number> {
    checkName(name);
    this.#core.assertOpen();
    return this.#call(`forceRelease of "${name}"`, () => this.#core.backend.forceRelease(name));
  }

  /** What the backend can hold beyond leases: lock kinds, wake-ups, rate algorithms, events, values. */
  get capabilities(): Capabilities {
    return this.#core.backend.capabilities;
  }

  get closed(): boolean {
    return this.#core.closed;
  }

  /** Releases what this client holds, abandons its waiters (ClosedError), closes connections. */
  async close(): Promise<void> {
    await this.#core.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw asBackendError(error, what);
    }
  }
}

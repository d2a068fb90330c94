import { type AcquireSpec, acquire, tryAcquire } from '../acquisition.js';
import type { ClientCore } from '../core.js';
import type { Lease } from '../lease.js';
import { checkName, checkOptions } from '../validate.js';
import {
  type AcquireOptions,
  type LeaseOptions,
  type ParsedLeaseOptions,
  parseAsync,
  parseLeaseOptions,
  parseWait,
  runHolding,
} from './common.js';

export type MutexOptions = LeaseOptions;

const MUTEX_KEYS = ['ttl', 'autoExtend'] as const;
const ACQUIRE_KEYS = ['wait', 'signal'] as const;

/** A lock with one holder at a time. Waiters are served in FIFO order. */
export class Mutex {
  readonly name: string;
  readonly #core: ClientCore;
  readonly #options: ParsedLeaseOptions;

  /** @internal use `hf.mutex(name, options)`. */
  constructor(core: ClientCore, name: unknown, options?: MutexOptions) {
    this.name = checkName(name);
    this.#options = parseLeaseOptions(checkOptions<MutexOptions>(options, MUTEX_KEYS, 'mutex options'));
    this.#core = core;
  }

  /** A lease now, or null when someone holds it or is queued for it. One round trip. */
  async tryAcquire(): Promise<Lease | null> {
    return tryAcquire(this.#core, this.#spec());
  }

  /**
   * Waits in line for the lock. Rejects with `LockTimeoutError` after `wait` ms, or with
   * `signal.reason` when aborted; either way it leaves the queue.
   */
  async acquire(options?: AcquireOptions): Promise<Lease> {
    const wait = await parseAsync(options, ACQUIRE_KEYS, 'acquire options', parseWait);
    return acquire(this.#core, this.#spec(), wait);
  }

  /** Acquires, runs `fn`, releases (also when `fn` throws), and returns what `fn` returned. */
  async withLock<T>(fn: (lease: Lease) => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    return runHolding(await this.acquire(options), fn);
  }

  #spec(): AcquireSpec {
    return { name: this.name, kind: 'mutex', permits: 1, limit: 1, owner: '', ...this.#options };
  }
}

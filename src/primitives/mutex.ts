import type { ClientCore } from '../engine/core.js';
import type { Lease } from '../engine/lease.js';
import { checkName, checkOptions } from '../util/validate.js';
import { FixedLock } from './fixed-lock.js';
import {
  type AcquireOptions,
  LEASE_KEYS,
  type LeaseOptions,
  lockSpec,
  parseLeaseOptions,
  type TryAcquireOptions,
} from './lease-options.js';

export type MutexOptions = LeaseOptions;

/** A lock with one holder at a time. Waiters are served in FIFO order. */
export class Mutex {
  readonly name: string;
  readonly #lock: FixedLock;

  /** @internal use `hf.mutex(name, options)`. */
  constructor(core: ClientCore, name: unknown, options?: MutexOptions) {
    this.name = checkName(name);
    const parsed = parseLeaseOptions(checkOptions<MutexOptions>(options, LEASE_KEYS, 'mutex options'));
    this.#lock = new FixedLock(core, lockSpec(this.name, 'mutex', 1, 1, parsed));
  }

  /** A lease now, or null when someone holds it or is queued for it. One round trip. */
  tryAcquire(options?: TryAcquireOptions): Promise<Lease | null> {
    return this.#lock.tryAcquire(options);
  }

  /**
   * Waits in line for the lock. Rejects with `LockTimeoutError` after `wait` ms, or with
   * `signal.reason` when aborted; either way it leaves the queue.
   */
  acquire(options?: AcquireOptions): Promise<Lease> {
    return this.#lock.acquire(options);
  }

  /** Acquires, runs `fn`, releases (also when `fn` throws), and returns what `fn` returned. */
  withLock<T>(fn: (lease: Lease) => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    return this.#lock.withLock(fn, options);
  }
}

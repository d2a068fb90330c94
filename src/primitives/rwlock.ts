import type { ClientCore } from '../engine/core.js';
import { checkName, checkOptions } from '../util/validate.js';
import { FixedLock } from './fixed-lock.js';
import { LEASE_KEYS, type LeaseOptions, lockSpec, parseLeaseOptions } from './lease-options.js';

export type RwLockOptions = LeaseOptions;

/**
 * The pool a read-write lock counts in: a reader takes one permit, a writer all of them. As
 * many readers as this can hold a lock at once.
 */
export const RW_PERMITS = 1_000_000;

/**
 * Many readers or one writer. Writer-preferring: waiters are served in FIFO order, so once a
 * writer waits, readers that come after it queue behind it and a stream of readers cannot
 * starve it. Every holder has a lease of its own: a crashed reader blocks writers only until
 * its TTL.
 */
export class RwLock {
  readonly name: string;
  /** Shared side: `read.acquire()` etc., like a mutex that other readers may hold too. */
  readonly read: FixedLock;
  /** Exclusive side: `write.acquire()` etc., excluding readers and other writers. */
  readonly write: FixedLock;

  /** @internal use `hf.rwlock(name, options)`. */
  constructor(core: ClientCore, name: unknown, options?: RwLockOptions) {
    this.name = checkName(name);
    const parsed = parseLeaseOptions(checkOptions<RwLockOptions>(options, LEASE_KEYS, 'rwlock options'));
    this.read = new FixedLock(core, lockSpec(this.name, 'rwlock', 1, RW_PERMITS, parsed));
    this.write = new FixedLock(core, lockSpec(this.name, 'rwlock', RW_PERMITS, RW_PERMITS, parsed));
  }
}

import { requireLockKind } from '../capabilities.js';
import { type AcquireSpec, acquire, tryAcquire } from '../engine/acquisition.js';
import type { ClientCore } from '../engine/core.js';
import type { Lease } from '../engine/lease.js';
import { requireReplicas } from '../engine/replicas.js';
import { ValidationError } from '../errors.js';
import { checkName, checkOptions, checkPositiveInt, optional } from '../util/validate.js';
import { runHolding } from './fixed-lock.js';
import {
  type AcquireOptions,
  LEASE_KEYS,
  type LeaseOptions,
  lockSpec,
  type ParsedLeaseOptions,
  parseLeaseOptions,
  parseWait,
  type TryAcquireOptions,
  withOwner,
} from './lease-options.js';

/** The largest pool a semaphore may have. */
export const MAX_PERMITS = 1_000_000;

export interface SemaphoreOptions extends LeaseOptions {
  /** How many permits exist in all (required). Every user of a name should agree on it. */
  readonly permits: number;
}

export interface SemaphoreTryOptions extends TryAcquireOptions {
  /** How many permits this lease takes (default 1). */
  readonly permits?: number;
}

export interface SemaphoreAcquireOptions extends AcquireOptions {
  /** How many permits this lease takes (default 1). */
  readonly permits?: number;
}

/**
 * A pool of `permits`. Each acquisition is a lease of its own (so a crashed holder's permits
 * come back at its TTL); a request for k permits waits its FIFO turn and is never overtaken by
 * smaller requests behind it.
 */
export class Semaphore {
  readonly name: string;
  readonly permits: number;
  readonly #core: ClientCore;
  readonly #options: ParsedLeaseOptions;

  /** @internal use `hf.semaphore(name, options)`. */
  constructor(core: ClientCore, name: unknown, options: SemaphoreOptions) {
    this.name = checkName(name);
    requireLockKind(core.backend, 'semaphore', `semaphore("${this.name}")`);
    const raw = checkOptions<SemaphoreOptions>(options, ['permits', ...LEASE_KEYS], 'semaphore options');
    if (raw.permits === undefined) throw new ValidationError('semaphore options need `permits`');
    this.permits = checkPositiveInt(raw.permits, 'permits', MAX_PERMITS);
    this.#options = parseLeaseOptions(raw);
    requireReplicas(core, this.#options.waitReplicas, `semaphore("${this.name}")`);
    this.#core = core;
  }

  /** A lease of `permits` (default 1) now, or null when they are not free. One round trip. */
  async tryAcquire(options?: SemaphoreTryOptions): Promise<Lease | null> {
    const raw = checkOptions<SemaphoreTryOptions>(options, ['permits', 'owner'], 'tryAcquire options');
    return tryAcquire(this.#core, withOwner(this.#spec(raw.permits), raw.owner));
  }

  /** Waits in line for `permits` (default 1). Rejects like `Mutex.acquire`. */
  async acquire(options?: SemaphoreAcquireOptions): Promise<Lease> {
    const keys = ['permits', 'wait', 'signal', 'owner'];
    const raw = checkOptions<SemaphoreAcquireOptions>(options, keys, 'acquire options');
    const spec = withOwner(this.#spec(raw.permits), raw.owner);
    return acquire(this.#core, spec, parseWait(raw));
  }

  /** Acquires, runs `fn`, releases (also when `fn` throws), and returns what `fn` returned. */
  async withLock<T>(fn: (lease: Lease) => T | Promise<T>, options?: SemaphoreAcquireOptions): Promise<T> {
    return runHolding(await this.acquire(options), fn);
  }

  #spec(permits: unknown): AcquireSpec {
    const count = optional(permits, (v) => checkPositiveInt(v, 'permits', this.permits)) ?? 1;
    return lockSpec(this.name, 'semaphore', count, this.permits, this.#options);
  }
}

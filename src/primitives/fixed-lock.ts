import { requireLockKind } from '../capabilities.js';
import { type AcquireSpec, acquire, tryAcquire } from '../engine/acquisition.js';
import type { ClientCore } from '../engine/core.js';
import type { Lease } from '../engine/lease.js';
import { requireReplicas } from '../engine/replicas.js';
import { checkOptions } from '../util/validate.js';
import { type AcquireOptions, parseWait, type TryAcquireOptions, withOwner } from './lease-options.js';

/**
 * tryAcquire / acquire / withLock for a primitive whose permits are fixed per side (a mutex,
 * each side of a read-write lock). Validation happens before any I/O, as a rejection.
 */
export class FixedLock {
  readonly #core: ClientCore;
  readonly #spec: AcquireSpec;

  /** Throws UnsupportedError at once when the backend cannot hold this kind of lock (or wait for replicas). */
  constructor(core: ClientCore, spec: AcquireSpec) {
    requireLockKind(core.backend, spec.kind, `${spec.kind}("${spec.name}")`);
    requireReplicas(core, spec.waitReplicas, `${spec.kind}("${spec.name}")`);
    this.#core = core;
    this.#spec = spec;
  }

  async tryAcquire(options?: TryAcquireOptions): Promise<Lease | null> {
    const raw = checkOptions<TryAcquireOptions>(options, ['owner'], 'tryAcquire options');
    return tryAcquire(this.#core, withOwner(this.#spec, raw.owner));
  }

  // Not async: the engine's promise goes back as it is, without a wrapper's promise hops.
  acquire(options?: AcquireOptions): Promise<Lease> {
    try {
      const raw = checkOptions<AcquireOptions>(options, ['wait', 'signal', 'owner'], 'acquire options');
      const spec = withOwner(this.#spec, raw.owner);
      return acquire(this.#core, spec, parseWait(raw));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async withLock<T>(fn: (lease: Lease) => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    return runHolding(await this.acquire(options), fn);
  }
}

/** Runs `fn` holding `lease`, then releases it whether `fn` returned or threw. */
export async function runHolding<T>(lease: Lease, fn: (lease: Lease) => T | Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn(lease);
  } catch (error) {
    // fn's error is the one the caller needs; a failed release only delays others to the TTL.
    await lease.release().catch(() => false);
    throw error;
  }
  await lease.release();
  return result;
}

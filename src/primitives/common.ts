import { type AcquireSpec, acquire, tryAcquire } from '../acquisition.js';
import type { LockKind } from '../backend.js';
import type { ClientCore } from '../core.js';
import type { Lease } from '../lease.js';
import { encodeOwner, type Json } from '../owner.js';
import { checkBoolean, checkMs, checkOptions, checkSignal, optional } from '../validate.js';

export const DEFAULT_TTL = 10_000;

/** Options every lease-granting primitive takes. */
export interface LeaseOptions {
  /** Lease length in ms (default 10 000). Renewed at about a third of it while held. */
  readonly ttl?: number;
  /** Renew automatically while held (default true). */
  readonly autoExtend?: boolean;
  /** Small JSON shown by inspect and events as who holds it (default: none). */
  readonly owner?: Json;
}

export const LEASE_KEYS = ['ttl', 'autoExtend', 'owner'] as const;

export interface ParsedLeaseOptions {
  readonly ttl: number;
  readonly autoExtend: boolean;
  readonly owner: string;
}

export function parseLeaseOptions(raw: Partial<LeaseOptions>): ParsedLeaseOptions {
  return {
    ttl: optional(raw.ttl, (v) => checkMs(v, 'ttl')) ?? DEFAULT_TTL,
    autoExtend: optional(raw.autoExtend, (v) => checkBoolean(v, 'autoExtend')) ?? true,
    owner: encodeOwner(raw.owner),
  };
}

/** How long to wait, and how to give up. */
export interface AcquireOptions {
  /** ms to wait for the grant; omitted waits until granted or aborted. */
  readonly wait?: number;
  /** Aborting stops the wait; the promise rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Overrides the primitive's `owner` for this lease. */
  readonly owner?: Json;
}

export interface TryAcquireOptions {
  /** Overrides the primitive's `owner` for this lease. */
  readonly owner?: Json;
}

export interface ParsedWait {
  readonly wait: number | undefined;
  readonly signal: AbortSignal | undefined;
}

export function parseWait(raw: Partial<AcquireOptions>): ParsedWait {
  return {
    wait: optional(raw.wait, (v) => checkMs(v, 'wait')),
    signal: optional(raw.signal, (v) => checkSignal(v)),
  };
}

/**
 * What a primitive acquires, written out field by field: specs are read on every acquire, and an
 * object made by spreading another is a slow one to read and to copy.
 */
export function lockSpec(
  name: string,
  kind: LockKind,
  permits: number,
  limit: number,
  { ttl, autoExtend, owner }: ParsedLeaseOptions,
): AcquireSpec {
  return { name, kind, permits, limit, ttl, autoExtend, owner };
}

/** The spec with a per-call owner, if the call gave one. */
export function withOwner(spec: AcquireSpec, owner: unknown): AcquireSpec {
  if (owner === undefined) return spec;
  const { name, kind, permits, limit, ttl, autoExtend } = spec;
  return lockSpec(name, kind, permits, limit, { ttl, autoExtend, owner: encodeOwner(owner) });
}

/**
 * tryAcquire / acquire / withLock for a primitive whose permits are fixed per side (a mutex,
 * each side of a read-write lock). Validation happens before any I/O, as a rejection.
 */
export class FixedLock {
  readonly #core: ClientCore;
  readonly #spec: AcquireSpec;

  constructor(core: ClientCore, spec: AcquireSpec) {
    this.#core = core;
    this.#spec = spec;
  }

  async tryAcquire(options?: TryAcquireOptions): Promise<Lease | null> {
    const raw = checkOptions<TryAcquireOptions>(options, ['owner'], 'tryAcquire options');
    return tryAcquire(this.#core, withOwner(this.#spec, raw.owner));
  }

  async acquire(options?: AcquireOptions): Promise<Lease> {
    const raw = checkOptions<AcquireOptions>(options, ['wait', 'signal', 'owner'], 'acquire options');
    const spec = withOwner(this.#spec, raw.owner);
    return acquire(this.#core, spec, parseWait(raw));
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

/** Options every lease-granting primitive parses, and the specs built from them. */
import type { LockKind } from '../backend.js';
import { DEFAULT_TTL } from '../defaults.js';
import type { AcquireSpec } from '../engine/acquisition.js';
import { ValidationError } from '../errors.js';
import { encodeOwner, type Json } from '../owner.js';
import { checkBoolean, checkMs, checkSignal, optional } from '../util/validate.js';

export { DEFAULT_TTL } from '../defaults.js';

/** Options every lease-granting primitive takes. */
export interface LeaseOptions {
  /** Lease length in ms (default 10 000). Renewed at about a third of it while held. */
  readonly ttl?: number;
  /** Renew automatically while held (default true). */
  readonly autoExtend?: boolean;
  /** Small JSON shown by inspect and events as who holds it (default: none). */
  readonly owner?: Json;
  /**
   * Redis (and Sentinel) only: hand a grant back only once this many replicas acknowledged it
   * (`WAIT`); 0 does not wait. Default: the client's `waitReplicas` (see ConnectOptions).
   */
  readonly waitReplicas?: number;
}

export const LEASE_KEYS = ['ttl', 'autoExtend', 'owner', 'waitReplicas'] as const;

export interface ParsedLeaseOptions {
  readonly ttl: number;
  readonly autoExtend: boolean;
  readonly owner: string;
  readonly waitReplicas: number | null;
}

/** More replicas than any deployment has: a typo, refused. */
export const MAX_WAIT_REPLICAS = 64;

export function checkWaitReplicas(value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > MAX_WAIT_REPLICAS) {
    throw new ValidationError(`waitReplicas must be an integer from 0 to ${MAX_WAIT_REPLICAS}, got ${String(value)}`);
  }
  return value as number;
}

export function parseLeaseOptions(raw: Partial<LeaseOptions>): ParsedLeaseOptions {
  return {
    ttl: optional(raw.ttl, (v) => checkMs(v, 'ttl')) ?? DEFAULT_TTL,
    autoExtend: optional(raw.autoExtend, (v) => checkBoolean(v, 'autoExtend')) ?? true,
    owner: encodeOwner(raw.owner),
    waitReplicas: optional(raw.waitReplicas, checkWaitReplicas) ?? null,
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
  { ttl, autoExtend, owner, waitReplicas }: ParsedLeaseOptions,
): AcquireSpec {
  return { name, kind, permits, limit, ttl, autoExtend, owner, waitReplicas };
}

/** The spec with a per-call owner, if the call gave one. */
export function withOwner(spec: AcquireSpec, owner: unknown): AcquireSpec {
  if (owner === undefined) return spec;
  const { name, kind, permits, limit, ttl, autoExtend, waitReplicas } = spec;
  return lockSpec(name, kind, permits, limit, { ttl, autoExtend, owner: encodeOwner(owner), waitReplicas });
}

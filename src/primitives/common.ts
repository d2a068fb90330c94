import type { Lease } from '../lease.js';
import { checkBoolean, checkMs, checkOptions, checkSignal, optional } from '../validate.js';

export const DEFAULT_TTL = 10_000;

/** Options every lease-granting primitive takes. */
export interface LeaseOptions {
  /** Lease length in ms (default 10 000). Renewed at about a third of it while held. */
  readonly ttl?: number;
  /** Renew automatically while held (default true). */
  readonly autoExtend?: boolean;
}

export interface ParsedLeaseOptions {
  readonly ttl: number;
  readonly autoExtend: boolean;
}

export function parseLeaseOptions(raw: Partial<LeaseOptions>): ParsedLeaseOptions {
  return {
    ttl: optional(raw.ttl, (v) => checkMs(v, 'ttl')) ?? DEFAULT_TTL,
    autoExtend: optional(raw.autoExtend, (v) => checkBoolean(v, 'autoExtend')) ?? true,
  };
}

/** How long to wait, and how to give up. */
export interface AcquireOptions {
  /** ms to wait for the grant; omitted waits until granted or aborted. */
  readonly wait?: number;
  /** Aborting stops the wait; the promise rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
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

/** Validates `options` against `keys`, turning a synchronous throw into a rejection. */
export async function parseAsync<T extends object, R>(
  options: unknown,
  keys: readonly string[],
  what: string,
  parse: (raw: Partial<T>) => R,
): Promise<R> {
  return parse(checkOptions<T>(options, keys, what));
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

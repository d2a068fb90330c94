/**
 * What keeps the server up under abuse. Each limit, when hit, is answered with a clear error to
 * the one connection that hit it; every other connection carries on undisturbed.
 */
import { ValidationError } from '../errors.js';
import { checkOptions } from '../util/validate.js';

export interface ServerLimits {
  /** Largest request (one command with its arguments), in bytes. Default 1 MiB. */
  readonly maxFrameBytes: number;
  /** Largest HTTP request body, in bytes (more is answered 413). Default 64 KiB. */
  readonly maxBodyBytes: number;
  /** Most arguments in one request. Default 4096 (an EXTENDMANY of 1365 leases). */
  readonly maxArgs: number;
  /** Longest inline (telnet-style) command line, in bytes. Default 16 KiB. */
  readonly maxInlineBytes: number;
  /** Most queued waiters on one name (a lock's or a rate limiter's queue). Default 1000. */
  readonly maxWaitersPerKey: number;
  /** Most queued waiters one connection (HTTP: one client address) may have at once. Default 1000. */
  readonly maxWaitersPerConnection: number;
  /**
   * Most distinct names one connection (HTTP: one client address) may hold, wait for or
   * rate-limit on at once. Default 10000.
   */
  readonly maxNamesPerClient: number;
  /** Most WATCH patterns of one connection (HTTP: event streams of one client address). Default 100. */
  readonly maxWatchesPerConnection: number;
  /** Most connections at once (RESP and HTTP each). Default 10000. */
  readonly maxConnections: number;
  /**
   * A connection that sends nothing for this long is closed, in ms (0: never); HTTP: a kept-alive
   * connection between requests. Default 60000.
   */
  readonly idleTimeout: number;
  /**
   * A request begun but not finished within this many ms (HTTP: its headers and body; answered
   * 408), or output the client has not read for this long, closes the connection. Default 10000.
   */
  readonly slowClientTimeout: number;
  /** Unread output beyond this many bytes closes the connection. Default 8 MiB. */
  readonly maxOutputBytes: number;
  /** Most namespaces (HOLDFAST.PREFIX values) served at once. Default 10000. */
  readonly maxNamespaces: number;
  /** Largest value in the value store (HOLDFAST.VSET, for `cached()`), in bytes. Default 512 KiB. */
  readonly maxValueBytes: number;
  /** Most values kept at once (those set through this server and not expired). Default 10000. */
  readonly maxValues: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxFrameBytes: 1024 * 1024,
  maxBodyBytes: 64 * 1024,
  maxArgs: 4096,
  maxInlineBytes: 16 * 1024,
  maxWaitersPerKey: 1000,
  maxWaitersPerConnection: 1000,
  maxNamesPerClient: 10_000,
  maxWatchesPerConnection: 100,
  maxConnections: 10_000,
  idleTimeout: 60_000,
  slowClientTimeout: 10_000,
  maxOutputBytes: 8 * 1024 * 1024,
  maxNamespaces: 10_000,
  maxValueBytes: 512 * 1024,
  maxValues: 10_000,
};

const KEYS = Object.keys(DEFAULT_LIMITS) as (keyof ServerLimits)[];
/** Limits that may be 0 to switch them off. */
const MAY_BE_ZERO = new Set<keyof ServerLimits>(['idleTimeout']);

/** The defaults, overridden by what was given; every value a non-negative safe integer. */
export function resolveLimits(given: unknown): ServerLimits {
  const raw = checkOptions<ServerLimits>(given, KEYS, 'server limits');
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const key of KEYS) {
    const value = raw[key];
    if (value === undefined) continue;
    const least = MAY_BE_ZERO.has(key) ? 0 : 1;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least) {
      throw new ValidationError(`limit ${key} must be an integer >= ${least}, got ${String(value)}`);
    }
    limits[key] = value;
  }
  return limits as unknown as ServerLimits;
}

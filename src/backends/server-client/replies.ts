/**
 * Turns the server's replies into the domain shapes of src/backend.ts, and its error replies
 * (`-CODE message`) into HoldfastErrors: the one place where those codes are mapped.
 */
import {
  type AcquireResult,
  type BackendEvent,
  EVENT_KINDS,
  type HandoffGrant,
  type HolderInfo,
  LOCK_EVENT_TYPES,
  LOCK_KINDS,
  type LockState,
  type RateResult,
  type WaiterInfo,
} from '../../backend.js';
import { BackendError, type HoldfastError, ValidationError } from '../../errors.js';
import type { Json } from '../../owner.js';
import { integer, unexpected } from '../replies.js';
import type { RespError, RespValue } from './resp.js';

/**
 * `-VALIDATION` is the client's own mistake (the server checked what the client should have);
 * every other code (LIMIT, NOAUTH, WRONGPASS, SHUTDOWN, …) is the backend refusing or failing.
 */
export function serverError(error: RespError, what: string): HoldfastError {
  if (error.code === 'VALIDATION') return new ValidationError(`${what}: ${error.message}`);
  return new BackendError(`${what} failed: ${error.code} ${error.message}`.trimEnd());
}

function fence(value: unknown, reply: unknown, what: string): bigint {
  if (typeof value === 'string' && /^\d{1,30}$/.test(value)) return BigInt(value);
  throw unexpected(reply, what);
}

/** A 0/1 reply (release, extend). */
export function parseFlag(reply: RespValue, what: string): boolean {
  const value = integer(reply, reply, what);
  if (value !== 0 && value !== 1) throw unexpected(reply, what);
  return value === 1;
}

export function parseCount(reply: RespValue, what: string): number {
  const value = integer(reply, reply, what);
  if (value < 0) throw unexpected(reply, what);
  return value;
}

export function parseSweep(reply: RespValue, what: string): number | null {
  return reply === null ? null : parseCount(reply, what);
}

export function parseNames(reply: RespValue, what: string): string[] {
  if (!Array.isArray(reply) || !reply.every((name) => typeof name === 'string')) throw unexpected(reply, what);
  return reply as string[];
}

/**
 * `[1, fence]` or `[0, position, retryAfter ms | -1, serverTime µs | -1, retryAfter µs | -1]`.
 * An older server sends no fifth field: then the whole ms (rounded up) is what there is.
 */
export function parseAcquire(reply: RespValue, what: string): AcquireResult {
  if (!Array.isArray(reply)) throw unexpected(reply, what);
  if (reply[0] === 1) return { granted: true, fence: fence(reply[1], reply, what) };
  if (reply[0] !== 0) throw unexpected(reply, what);
  const retryAfter = reply.length > 4 ? integer(reply[4], reply, what) / 1000 : integer(reply[2], reply, what);
  const micros = integer(reply[3], reply, what);
  return {
    granted: false,
    position: integer(reply[1], reply, what),
    retryAfter: retryAfter < 0 ? null : retryAfter,
    serverTime: micros < 0 ? null : micros,
  };
}

/** A VGET reply: the value, or undefined for nil. */
export function parseValue(reply: RespValue, what: string): string | undefined {
  if (reply === null) return undefined;
  if (typeof reply !== 'string') throw unexpected(reply, what);
  return reply;
}

/** An owner in the server's JSON (INSPECT, events): a JSON value, null when none. */
function owner(value: unknown): Json {
  return value === undefined ? null : (value as Json);
}

/** A wake push: `["wake", token]`, or with a hand-off's grant `[…, fence, serverTime µs]`. */
export function parseWake(items: readonly RespValue[]): { token: string; grant: HandoffGrant | null } | null {
  const token = items[1];
  const f = items[2];
  const micros = items[3];
  if (typeof token !== 'string') return null;
  if (items.length < 4) return { token, grant: null };
  const valid = typeof f === 'string' && /^\d{1,30}$/.test(f) && typeof micros === 'number' && Number.isInteger(micros);
  // A grant this client cannot read is no grant: the waiter then asks again.
  return { token, grant: valid ? { fence: BigInt(f), serverTime: micros } : null };
}

/**
 * `[allowed, remaining, retryAfter, resetIn, at, position]`, and with EXACT
 * `[…, retryAfter µs | -1, serverTime µs | -1]`.
 */
export function parseRate(reply: RespValue, what: string): RateResult {
  if (!Array.isArray(reply) || (reply.length !== 6 && reply.length !== 8)) throw unexpected(reply, what);
  const [allowed, remaining, retryAfter, resetIn, at, position, exactMicros = -1, serverTime = -1] = reply.map((v) =>
    integer(v, reply, what),
  );
  if (allowed !== 0 && allowed !== 1) throw unexpected(reply, what);
  return {
    allowed: allowed === 1,
    remaining: remaining ?? 0,
    retryAfter: retryAfter ?? 0,
    resetIn: resetIn ?? 0,
    at: at ?? 0,
    position: position ?? -1,
    ...(exactMicros >= 0 ? { exactRetryAfter: exactMicros / 1000 } : {}),
    ...(serverTime >= 0 ? { serverTime } : {}),
  };
}

/** The INSPECT reply: nil, or the state as JSON (fences as decimal strings). */
export function parseInspect(reply: RespValue, what: string): LockState | null {
  if (reply === null) return null;
  const raw = json(reply, what) as Record<string, unknown>;
  const { name, kind, limit, holders, waiters } = raw;
  if (typeof name !== 'string' || !Array.isArray(holders) || !Array.isArray(waiters)) throw unexpected(reply, what);
  return {
    name,
    kind: LOCK_KINDS.find((k) => k === kind) ?? null,
    limit: typeof limit === 'number' ? limit : null,
    holders: holders.map(
      (h: Record<string, unknown>): HolderInfo => ({
        fence: fence(h.fence, reply, what),
        permits: integer(h.permits, reply, what),
        expiresIn: integer(h.expiresIn, reply, what),
        owner: owner(h.owner),
      }),
    ),
    waiters: waiters.map(
      (w: Record<string, unknown>): WaiterInfo => ({
        permits: integer(w.permits, reply, what),
        owner: owner(w.owner),
      }),
    ),
  };
}

/** An event push's JSON, or null when it is not one (then it is ignored with a warning). */
export function parseEvent(text: RespValue): BackendEvent | null {
  let raw: Record<string, unknown>;
  try {
    raw = json(text, 'event') as Record<string, unknown>;
  } catch {
    return null;
  }
  const type = LOCK_EVENT_TYPES.find((t) => t === raw.type);
  const kind = EVENT_KINDS.find((k) => k === raw.kind);
  const { name, fence: f, permits, at, expiresIn } = raw;
  if (!type || !kind || typeof name !== 'string') return null;
  if (typeof permits !== 'number' || typeof at !== 'number') return null;
  if (f !== null && (typeof f !== 'string' || !/^\d{1,30}$/.test(f))) return null;
  if (expiresIn !== null && typeof expiresIn !== 'number') return null;
  const fence = f === null ? null : BigInt(f);
  return { type, name, kind, fence, permits, owner: owner(raw.owner), at, expiresIn };
}

function json(reply: RespValue, what: string): unknown {
  if (typeof reply !== 'string') throw unexpected(reply, what);
  try {
    const value: unknown = JSON.parse(reply);
    if (typeof value === 'object' && value !== null) return value;
  } catch {
    // reported below
  }
  throw unexpected(reply, what);
}

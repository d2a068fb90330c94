/**
 * Turns script replies (arrays of integers and strings, see each script's header) into the
 * domain shapes of src/backend.ts, and the error codes the scripts return on purpose into
 * errors: the one place where those codes are mapped.
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
import { BackendError, type HoldfastError } from '../../errors.js';
import { decodeOwner } from '../../owner.js';
import { integer, unexpected } from '../replies.js';

/** The codes in scripts/includes/args.lua. */
const SCRIPT_ERRORS: Readonly<Record<number, string>> = {
  [-1]: 'the script refused its arguments',
  [-2]: 'permits exceed the limit, so the request could never be granted',
  [-3]: 'the cost exceeds the limit (the burst of a token bucket), so it could never be admitted',
};

function scriptError(code: number, what: string): HoldfastError {
  return new BackendError(`${what} failed: ${SCRIPT_ERRORS[code] ?? `script error code ${code}`}`);
}

function text(value: unknown, reply: unknown, what: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw unexpected(reply, what);
}

/** A 0/1 reply (release, extend). */
export function parseFlag(reply: unknown, what: string): boolean {
  const value = parseCount(reply, what);
  if (value > 1) throw unexpected(reply, what);
  return value === 1;
}

/**
 * release.lua's reply: 0 the token held nothing, 1 it held and nobody was queued, 2 it held
 * and others were queued.
 */
export function parseRelease(reply: unknown, what: string): 0 | 1 | 2 {
  const value = parseCount(reply, what);
  if (value > 2) throw unexpected(reply, what);
  return value as 0 | 1 | 2;
}

/** A non-negative integer reply (force-release). */
export function parseCount(reply: unknown, what: string): number {
  const value = integer(reply, reply, what);
  if (value < 0) throw scriptError(value, what);
  return value;
}

/** The sweep reply: ms until the next expiry, or -1 for none (sweep.lua). */
export function parseSweep(reply: unknown, what: string): number | null {
  const value = integer(reply, reply, what);
  if (value < -1) throw unexpected(reply, what);
  return value === -1 ? null : value;
}

/**
 * The rate-take reply: { allowed, remaining, retryAfter, resetIn, at, position,
 * retryAfterMicros, serverMicros } (rate-take.lua).
 */
export function parseRate(reply: unknown, what: string): RateResult {
  if (!Array.isArray(reply)) throw unexpected(reply, what);
  const status = integer(reply[0], reply, what);
  if (status < 0) throw scriptError(status, what);
  if (status > 1) throw unexpected(reply, what);
  const field = (index: number): number => integer(reply[index], reply, what);
  const exactMicros = field(6);
  return {
    allowed: status === 1,
    remaining: field(1),
    retryAfter: field(2),
    resetIn: field(3),
    at: field(4),
    position: field(5),
    ...(exactMicros >= 0 ? { exactRetryAfter: exactMicros / 1000 } : {}),
    serverTime: field(7),
  };
}

/**
 * An event message (scripts/includes/events.lua), or null when it is not one: the channel is
 * open to anyone who can PUBLISH, so nothing in it is trusted unchecked.
 */
export function parseEvent(message: string): BackendEvent | null {
  let raw: unknown;
  try {
    raw = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const { t, n, k, f, p, o, a, e } = raw as Record<string, unknown>;
  const type = LOCK_EVENT_TYPES.find((x) => x === t);
  const kind = EVENT_KINDS.find((x) => x === k);
  const numbers = [p, a, e].every((x) => typeof x === 'number' && Number.isInteger(x));
  if (!type || !kind || typeof n !== 'string' || typeof o !== 'string' || !numbers) return null;
  if (typeof f !== 'string' || !/^\d*$/.test(f)) return null;
  const expiresIn = e as number;
  return {
    type,
    name: n,
    kind,
    fence: f === '' ? null : BigInt(f),
    permits: p as number,
    owner: decodeOwner(o),
    at: a as number,
    expiresIn: expiresIn < 0 ? null : expiresIn,
  };
}

/**
 * The acquire reply (acquire.lua): {1, fence} or {0, position, retryAfter µs, serverMicros}.
 */
export function parseAcquire(reply: unknown, what: string): AcquireResult {
  if (!Array.isArray(reply)) throw unexpected(reply, what);
  const status = integer(reply[0], reply, what);
  if (status < 0) throw scriptError(status, what);
  if (status === 1) return { granted: true, fence: BigInt(text(reply[1], reply, what)) };
  if (status !== 0) throw unexpected(reply, what);
  const position = integer(reply[1], reply, what);
  // µs in the reply, so a waiter can ask again exactly when the holder expires
  const retryAfter = integer(reply[2], reply, what);
  const serverTime = integer(reply[3], reply, what);
  if (serverTime < 0) throw unexpected(reply, what);
  return { granted: false, position, retryAfter: retryAfter < 0 ? null : retryAfter / 1000, serverTime };
}

/** A wake-up on the client's channel: whose, and what a hand-off granted it (or null). */
export interface Wake {
  readonly token: string;
  readonly grant: HandoffGrant | null;
  /** For a new queue head: ms until the earliest holder expires (see WakeListener). */
  readonly retryAfter?: number;
}

/**
 * A wake-up message (scripts/includes/drain.lua): `token|fence|serverMicros` for a hand-off
 * grant, `token|retryAfter` for a new head of the queue, else just the token. Tokens never
 * hold '|'; a message of any other shape is a bare token, whatever it contains.
 * Read by index, not split and matched: this runs between a hand-off's message and the waiter
 * resuming, on code gone cold since its last wake-up.
 */
export function parseWake(message: string): Wake {
  const first = message.indexOf('|');
  if (first < 0) return { token: message, grant: null };
  const second = message.indexOf('|', first + 1);
  if (second < 0) {
    return allDigits(message, first + 1, message.length)
      ? { token: message.slice(0, first), grant: null, retryAfter: Number(message.slice(first + 1)) }
      : { token: message, grant: null };
  }
  if (
    message.indexOf('|', second + 1) >= 0 ||
    !allDigits(message, first + 1, second) ||
    !allDigits(message, second + 1, message.length)
  ) {
    return { token: message, grant: null };
  }
  return {
    token: message.slice(0, first),
    grant: { fence: BigInt(message.slice(first + 1, second)), serverTime: Number(message.slice(second + 1)) },
  };
}

/** Whether text[from, to) is one or more ASCII digits (what /^\d+$/ accepts). */
function allDigits(text: string, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The inspect reply: nil, or kind, limit, counted holders, counted waiters (inspect.lua). */
export function parseInspect(name: string, reply: unknown, what: string): LockState | null {
  if (reply === null) return null;
  if (!Array.isArray(reply)) throw unexpected(reply, what);
  const field = (index: number): unknown => reply[index];
  const kind = text(field(0), reply, what);
  const limit = text(field(1), reply, what);
  const holders: HolderInfo[] = [];
  let at = 3;
  for (let n = integer(field(2), reply, what); n > 0; n--, at += 4) {
    holders.push({
      fence: BigInt(text(field(at), reply, what)),
      permits: integer(field(at + 1), reply, what),
      expiresIn: integer(field(at + 2), reply, what),
      owner: decodeOwner(text(field(at + 3), reply, what)),
    });
  }
  const waiters: WaiterInfo[] = [];
  for (let n = integer(field(at++), reply, what); n > 0; n--, at += 2) {
    waiters.push({ permits: integer(field(at), reply, what), owner: decodeOwner(text(field(at + 1), reply, what)) });
  }
  return {
    name,
    kind: LOCK_KINDS.find((k) => k === kind) ?? null,
    limit: limit === '' ? null : Number(limit),
    holders,
    waiters,
  };
}

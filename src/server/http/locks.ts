/**
 * The lock endpoints: acquire (with a long-poll wait in the FIFO queue, the server waiting on
 * the caller's behalf exactly as for HOLDFAST.LOCK), extend, release, inspect and list. Each is
 * the same store operation, with the same limits, as over RESP.
 */
import type { AcquireRequest, LockState } from '../../backend.js';
import { claimTtl } from '../../defaults.js';
import { newToken } from '../../engine/core.js';
import { encodeOwner } from '../../owner.js';
import { escapeGlob } from '../../util/glob.js';
import { checkName } from '../../util/validate.js';
import { MAX_COUNT, toErrorReply } from '../commands/args.js';
import { acquireOp, extendOp, releaseOp } from '../commands/ops.js';
import type { ErrorReply, Reply } from '../reply.js';
import { SERVER_WAITER_TTL, waitOnServer } from '../waiting.js';
import { readFields } from './body.js';
import { fromErrorReply, HttpError } from './errors.js';
import { type Exchange, type JsonReply, ok } from './exchange.js';
import { countField, DEFAULT_TTL, msField, tokenField, waitField } from './fields.js';

function fields(ex: Exchange, known: readonly string[]) {
  return readFields(ex.req, ex.ctx.limits.maxBodyBytes, known);
}

/** The wall-clock instant (epoch ms) a grant of `ttl` made now runs out on the server. */
function expiresAt(ex: Exchange, ttl: number): number {
  return Math.floor(ex.ctx.store.clock.wallMicros() / 1000) + ttl;
}

function granted(ex: Exchange, token: string, fence: string, ttl: number): JsonReply {
  ex.client.keep(ttl);
  return ok({ token, fence, ttl, expiresAt: expiresAt(ex, ttl) });
}

/** `{ ttl?, wait?, permits?, limit?, owner? }` → `{ token, fence, ttl, expiresAt }`, or 409. */
export async function acquire(ex: Exchange, name: string): Promise<JsonReply | null> {
  const body = await fields(ex, ['ttl', 'wait', 'permits', 'limit', 'owner']);
  const ttl = msField(body.ttl, 'ttl', DEFAULT_TTL);
  const wait = waitField(body.wait);
  const limit = countField(body.limit, 'limit', MAX_COUNT, 1);
  const permits = countField(body.permits, 'permits', limit, 1);
  const owner = encodeOwner(body.owner);
  const token = newToken();
  const kind = limit === 1 ? 'mutex' : 'semaphore';
  const request = (enqueue: boolean): AcquireRequest => {
    const waiterTtl = SERVER_WAITER_TTL;
    return { name, kind, token, permits, limit, ttl, enqueue, waiterTtl, claimTtl: claimTtl(ttl, waiterTtl), owner };
  };
  const timeout = new HttpError('LOCK_TIMEOUT', `could not acquire ${JSON.stringify(name)} within ${wait} ms`);
  if (wait === 0) {
    const result = acquireOp(ex.client.session, request(false));
    if (!result.granted) throw timeout;
    return granted(ex, token, result.fence.toString(), ttl);
  }
  const fence = await longPoll(ex, name, token, wait, request);
  if (fence === null) throw timeout;
  return ex.gone ? null : granted(ex, token, fence, ttl);
}

/**
 * Waits in the queue on the caller's behalf, woken by the hand-off: the fence once granted,
 * null when `wait` ran out. A caller that hangs up ends the wait (its waiter leaves the queue,
 * or frees a grant that raced the hang-up).
 */
async function longPoll(
  ex: Exchange,
  name: string,
  token: string,
  wait: number,
  request: (enqueue: boolean) => AcquireRequest,
): Promise<string | null> {
  const session = ex.client.session;
  ex.onGone(() => ex.client.waiters.get(token)?.cancel(null));
  const reply = await waitOnServer(session, {
    token,
    wait,
    ask() {
      const result = acquireOp(session, request(true));
      return result.granted ? { done: result.fence.toString() } : { retryAfter: result.retryAfter };
    },
    leave: () => void releaseOp(session, name, token),
    timedOut: () => null,
    failed: toErrorReply,
  });
  if (isErrorReply(reply)) throw fromErrorReply(reply);
  if (typeof reply !== 'string') return null;
  if (ex.gone) releaseOp(session, name, token); // nobody is left to release it
  return reply;
}

export function isErrorReply(reply: Reply): reply is ErrorReply {
  return reply !== null && typeof reply === 'object' && 'error' in reply;
}

/** `{ token, ttl? }` → `{ held: true, ttl, expiresAt }`, or 409 LEASE_LOST. */
export async function extend(ex: Exchange, name: string): Promise<JsonReply> {
  const body = await fields(ex, ['token', 'ttl']);
  const token = tokenField(body.token);
  const ttl = msField(body.ttl, 'ttl', DEFAULT_TTL);
  if (!extendOp(ex.client.session, name, token, ttl)) {
    throw new HttpError('LEASE_LOST', `${JSON.stringify(name)} is no longer held with this token`);
  }
  ex.client.keep(ttl);
  return ok({ held: true, ttl, expiresAt: expiresAt(ex, ttl) });
}

/** `{ token }` → `{ released }`: false when it no longer held (it never frees another holder). */
export async function release(ex: Exchange, name: string): Promise<JsonReply> {
  const body = await fields(ex, ['token']);
  return ok({ released: releaseOp(ex.client.session, name, tokenField(body.token)) });
}

export async function inspect(ex: Exchange, name: string): Promise<JsonReply> {
  const state = ex.ctx.store.locks.inspect(ex.client.key(name));
  if (state === null) throw new HttpError('NOT_FOUND', `nothing holds or waits for ${JSON.stringify(name)}`);
  return ok(stateBody(name, state));
}

/** The state as JSON: fences as decimal strings (they exceed 2^53), owners as the JSON given. */
function stateBody(name: string, state: LockState): unknown {
  return {
    name,
    kind: state.kind,
    limit: state.limit,
    holders: state.holders.map((h) => ({
      fence: h.fence.toString(),
      permits: h.permits,
      expiresIn: Math.ceil(h.expiresIn),
      owner: h.owner,
    })),
    waiters: state.waiters.map((w) => ({ permits: w.permits, owner: w.owner })),
  };
}

/** `?pattern=glob` (default `*`) → `{ names }`, held or awaited. */
export async function list(ex: Exchange): Promise<JsonReply> {
  const pattern = checkName(ex.query.get('pattern') ?? '*', 'pattern');
  const prefix = ex.client.key('');
  const names = ex.ctx.store.locks.list(escapeGlob(prefix) + pattern).map((key) => key.slice(prefix.length));
  return ok({ names });
}

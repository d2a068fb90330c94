/**
 * `POST /v1/rate/{name}/take`: one rate-limiter decision, or with `wait` a place in the
 * limiter's FIFO queue, the server asking again exactly when the head's slot comes.
 */
import type { RateRequest, RateResult } from '../../backend.js';
import { newToken } from '../../engine/core.js';
import { MAX_COUNT, toErrorReply } from '../commands/args.js';
import { rateLeaveOp, rateTakeOp } from '../commands/ops.js';
import { SERVER_WAITER_TTL, waitOnServer } from '../waiting.js';
import { readFields } from './body.js';
import { fromErrorReply, HttpError } from './errors.js';
import type { Exchange, JsonReply } from './exchange.js';
import { algorithmField, countField, msField, waitField } from './fields.js';
import { isErrorReply } from './locks.js';

const KNOWN = ['limit', 'window', 'cost', 'wait', 'algorithm', 'burst'];

/** `{ limit, window, cost?, wait?, algorithm?, burst? }` → 200, or 429 with the same fields. */
export async function take(ex: Exchange, name: string): Promise<JsonReply | null> {
  const body = await readFields(ex.req, ex.ctx.limits.maxBodyBytes, KNOWN);
  const limit = countField(body.limit, 'limit', MAX_COUNT);
  const window = msField(body.window, 'window');
  const algorithm = algorithmField(body.algorithm);
  if (body.burst !== undefined && algorithm !== 'token-bucket') {
    throw new HttpError('VALIDATION', 'burst applies to algorithm token-bucket only');
  }
  const burst = countField(body.burst, 'burst', MAX_COUNT, limit);
  const cost = countField(body.cost, 'cost', algorithm === 'token-bucket' ? burst : limit, 1);
  const wait = waitField(body.wait);
  const request = (token: string | null): RateRequest => {
    return { name, algorithm, limit, window, burst, cost, token, waiterTtl: SERVER_WAITER_TTL };
  };
  const result = wait === 0 ? rateTakeOp(ex.client.session, request(null)) : await waitForSlot(ex, name, wait, request);
  if (result === null) return null;
  ex.client.keep(Math.max(window, result.resetIn));
  return takeReply(name, result);
}

/** The admission, or the last refusal once `wait` ran out; null when the caller hung up. */
async function waitForSlot(
  ex: Exchange,
  name: string,
  wait: number,
  request: (token: string | null) => RateRequest,
): Promise<RateResult | null> {
  const session = ex.client.session;
  const token = newToken();
  let last = null as RateResult | null;
  ex.onGone(() => ex.client.waiters.get(token)?.cancel(null));
  const reply = await waitOnServer(session, {
    token,
    wait,
    ask() {
      last = rateTakeOp(session, request(token));
      return last.allowed ? { done: 1 } : { retryAfter: last.retryAfter >= 0 ? last.retryAfter : null };
    },
    leave: () => rateLeaveOp(session, name, token),
    timedOut: () => 0,
    failed: toErrorReply,
  });
  if (isErrorReply(reply)) throw fromErrorReply(reply);
  if (ex.gone) return null;
  if (last === null) throw new HttpError('INTERNAL', 'the wait ended without a decision');
  return last;
}

/**
 * `{ allowed, remaining, retryAfter, resetAt }`: retryAfter in ms (0 when allowed, -1 when
 * unknown because other waiters are ahead), resetAt in epoch ms. A refusal is a 429 with the
 * same fields, the error, and Retry-After in whole seconds.
 */
function takeReply(name: string, result: RateResult): JsonReply {
  const retryAfter = result.retryAfter < 0 ? -1 : Math.ceil(result.retryAfter);
  const fields = {
    allowed: result.allowed,
    remaining: result.remaining,
    retryAfter,
    resetAt: Math.floor(result.at + result.resetIn),
  };
  if (result.allowed) return { status: 200, body: fields };
  const message = `rate limit of ${JSON.stringify(name)} reached`;
  return {
    status: 429,
    body: { ...fields, error: { code: 'RATE_LIMITED', message } },
    headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfter / 1000))) },
  };
}

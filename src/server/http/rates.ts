/**
 * `POST /v1/rate/{name}/take`: one rate-limiter decision, or with `wait` a place in the
 * limiter's FIFO queue, the server asking again exactly when the head's slot comes.
 */
import type { RateRequest, RateResult } from '../../backend.js';
import { MAX_COUNT } from '../commands/args.js';
import { SERVER_WAITER_TTL } from '../namespace.js';
import { takeFor } from '../waits.js';
import { readFields } from './body.js';
import { HttpError } from './errors.js';
import type { Exchange, JsonReply } from './exchange.js';
import { algorithmField, countField, msField, waitField } from './fields.js';

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
  const result = await takeFor(ex.client, request, wait, ex.signal);
  if (result === null) throw new HttpError('INTERNAL', 'the wait ended without a decision');
  ex.client.keep(Math.max(window, result.resetIn));
  return takeReply(name, result);
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

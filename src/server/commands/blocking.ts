/**
 * The high-level commands, for clients with no push support (PHP, Python, redis-cli): the
 * server creates the token and, with WAIT, waits in the FIFO queue on the client's behalf.
 * Thin over the same operations as the low-level commands.
 */
import type { AcquireRequest, RateResult } from '../../backend.js';
import { claimTtl } from '../../defaults.js';
import { newToken } from '../../engine/core.js';
import { ValidationError } from '../../errors.js';
import { MAX_MS } from '../../util/validate.js';
import type { Reply } from '../reply.js';
import type { Session } from '../session.js';
import { SERVER_WAITER_TTL, waitOnServer } from '../waiting.js';
import {
  algorithmArg,
  countArg,
  integerArg,
  MAX_COUNT,
  msArg,
  nameArg,
  optionArgs,
  ownerArg,
  toErrorReply,
  tokenArg,
} from './args.js';
import { acquireOp, extendOp, rateLeaveOp, rateTakeOp, releaseOp } from './ops.js';
import { rateRequest } from './rates.js';
import type { CommandGroup } from './table.js';

/** WAIT ms: 0 (the default) tries once and never queues. */
function waitOption(text: string | undefined): number {
  if (text === undefined) return 0;
  const wait = integerArg(text, 'WAIT');
  if (wait < 0 || wait > MAX_MS) throw new ValidationError(`WAIT must be in [0, ${MAX_MS}] ms, got ${wait}`);
  return wait;
}

/** `LOCK name ttl [WAIT ms] [PERMITS k LIMIT n] [OWNER json]` → `[token, fence]`, or nil. */
function lock(session: Session, args: readonly string[]): Reply | Promise<Reply> {
  const name = nameArg(args[0]);
  const ttl = msArg(args[1], 'ttl');
  const options = optionArgs(args.slice(2), ['WAIT', 'PERMITS', 'LIMIT', 'OWNER']);
  const limit = options.has('LIMIT') ? countArg(options.get('LIMIT'), 'LIMIT', MAX_COUNT) : 1;
  const permits = options.has('PERMITS') ? countArg(options.get('PERMITS'), 'PERMITS', limit) : 1;
  const owner = ownerArg(options.get('OWNER'));
  const wait = waitOption(options.get('WAIT'));
  const token = newToken();
  const kind = limit === 1 ? 'mutex' : 'semaphore';
  const waiterTtl = SERVER_WAITER_TTL;
  const request = (enqueue: boolean): AcquireRequest => ({
    name,
    kind,
    token,
    permits,
    limit,
    ttl,
    enqueue,
    waiterTtl,
    claimTtl: claimTtl(ttl, waiterTtl),
    owner,
  });
  if (wait === 0) {
    const result = acquireOp(session, request(false));
    return result.granted ? [token, result.fence.toString()] : null;
  }
  return waitOnServer(session, {
    token,
    wait,
    ask() {
      const result = acquireOp(session, request(true));
      return result.granted ? { done: [token, result.fence.toString()] } : { retryAfter: result.retryAfter };
    },
    leave: () => void releaseOp(session, name, token),
    timedOut: () => null,
    failed: toErrorReply,
  });
}

/** `[allowed, remaining, retryAfter, resetAt]`: retryAfter -1 when unknown (behind others). */
function takeReply(result: RateResult): Reply {
  const retryAfter = result.retryAfter < 0 ? -1 : Math.ceil(result.retryAfter);
  return [result.allowed ? 1 : 0, result.remaining, retryAfter, Math.floor(result.at + result.resetIn)];
}

/** `TAKE name limit window [WAIT ms] [COST n] [ALGORITHM a] [BURST b]`. */
function take(session: Session, args: readonly string[]): Reply | Promise<Reply> {
  const name = nameArg(args[0]);
  const limit = countArg(args[1], 'limit', MAX_COUNT);
  const window = msArg(args[2], 'window');
  const options = optionArgs(args.slice(3), ['WAIT', 'COST', 'ALGORITHM', 'BURST']);
  const algorithm = options.has('ALGORITHM') ? algorithmArg(options.get('ALGORITHM')) : 'sliding-window';
  if (options.has('BURST') && algorithm !== 'token-bucket') {
    throw new ValidationError('BURST applies to ALGORITHM token-bucket only');
  }
  const burst = options.has('BURST') ? countArg(options.get('BURST'), 'BURST', MAX_COUNT) : limit;
  const wait = waitOption(options.get('WAIT'));
  const cost = options.get('COST') ?? '1';
  const request = (token: string | null) =>
    rateRequest(name, algorithm, limit, window, burst, cost, token, SERVER_WAITER_TTL);
  if (wait === 0) return takeReply(rateTakeOp(session, request(null)));
  request(null); // checks COST before anything is queued
  const token = newToken();
  let last: RateResult | null = null;
  return waitOnServer(session, {
    token,
    wait,
    ask() {
      last = rateTakeOp(session, request(token));
      return last.allowed ? { done: takeReply(last) } : { retryAfter: last.retryAfter >= 0 ? last.retryAfter : null };
    },
    leave: () => rateLeaveOp(session, name, token),
    timedOut: () => (last === null ? null : takeReply(last)),
    failed: toErrorReply,
  });
}

export const blockingCommands: CommandGroup = {
  'HOLDFAST.LOCK': { min: 2, max: 10, run: lock },
  'HOLDFAST.UNLOCK': {
    min: 2,
    max: 2,
    run: (session, [name, token]) => (releaseOp(session, nameArg(name), tokenArg(token)) ? 1 : 0),
  },
  'HOLDFAST.RENEW': {
    min: 3,
    max: 3,
    run: (session, [name, token, ttl]) =>
      extendOp(session, nameArg(name), tokenArg(token), msArg(ttl, 'ttl')) ? 1 : 0,
  },
  'HOLDFAST.TAKE': { min: 3, max: 11, run: take },
};

/**
 * The high-level commands, for clients with no push support (PHP, Python, redis-cli): the
 * server creates the token and, with WAIT, waits in the FIFO queue on the client's behalf
 * (src/server/waits.ts: the library's waiting loop). Thin over the same limited backend as the
 * low-level commands.
 */
import type { RateResult } from '../../backend.js';
import { ValidationError } from '../../errors.js';
import { MAX_MS } from '../../util/validate.js';
import type { Connection } from '../caller.js';
import { SERVER_WAITER_TTL } from '../namespace.js';
import type { Reply } from '../reply.js';
import { type Grant, lockFor, takeFor } from '../waits.js';
import {
  algorithmArg,
  countArg,
  integerArg,
  MAX_COUNT,
  msArg,
  nameArg,
  optionArgs,
  ownerArg,
  tokenArg,
} from './args.js';
import { rateRequest } from './rates.js';
import type { CommandGroup, Outcome } from './table.js';

/** WAIT ms: 0 (the default) tries once and never queues. */
function waitOption(text: string | undefined): number {
  if (text === undefined) return 0;
  const wait = integerArg(text, 'WAIT');
  if (wait < 0 || wait > MAX_MS) throw new ValidationError(`WAIT must be in [0, ${MAX_MS}] ms, got ${wait}`);
  return wait;
}

/** A reply that holds the connection's later requests only when it may wait. */
function outcome(reply: Promise<Reply>, wait: number): Outcome {
  return wait === 0 ? reply : { blocking: reply };
}

/** `LOCK name ttl [WAIT ms] [PERMITS k LIMIT n] [OWNER json]` → `[token, fence]`, or nil. */
function lock(connection: Connection, args: readonly string[]): Outcome {
  const name = nameArg(args[0]);
  const ttl = msArg(args[1], 'ttl');
  const options = optionArgs(args.slice(2), ['WAIT', 'PERMITS', 'LIMIT', 'OWNER']);
  const limit = options.has('LIMIT') ? countArg(options.get('LIMIT'), 'LIMIT', MAX_COUNT) : 1;
  const permits = options.has('PERMITS') ? countArg(options.get('PERMITS'), 'PERMITS', limit) : 1;
  const owner = ownerArg(options.get('OWNER'));
  const wait = waitOption(options.get('WAIT'));
  const kind = limit === 1 ? 'mutex' : 'semaphore';
  const spec = { name, kind, permits, limit, ttl, owner, wait } as const;
  const reply = lockFor(connection, spec, connection.signal).then((grant: Grant | null): Reply => {
    return grant === null ? null : [grant.token, grant.fence.toString()];
  });
  return outcome(reply, wait);
}

/** `[allowed, remaining, retryAfter, resetAt]`: retryAfter -1 when unknown (behind others). */
function takeReply(result: RateResult | null): Reply {
  if (result === null) return null;
  const retryAfter = result.retryAfter < 0 ? -1 : Math.ceil(result.retryAfter);
  return [result.allowed ? 1 : 0, result.remaining, retryAfter, Math.floor(result.at + result.resetIn)];
}

/** `TAKE name limit window [WAIT ms] [COST n] [ALGORITHM a] [BURST b]`. */
function take(connection: Connection, args: readonly string[]): Outcome {
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
  request(null); // checks COST now, before anything is sent
  return outcome(takeFor(connection, request, wait, connection.signal).then(takeReply), wait);
}

export const blockingCommands: CommandGroup = {
  'HOLDFAST.LOCK': { min: 2, max: 10, run: lock },
  'HOLDFAST.UNLOCK': {
    min: 2,
    max: 2,
    run: (c, [name, token]) => c.backend.release(nameArg(name), tokenArg(token)).then((held) => (held ? 1 : 0)),
  },
  'HOLDFAST.RENEW': {
    min: 3,
    max: 3,
    run: (c, [name, token, ttl]) =>
      c.backend.extend(nameArg(name), tokenArg(token), msArg(ttl, 'ttl')).then((held) => (held ? 1 : 0)),
  },
  'HOLDFAST.TAKE': { min: 3, max: 11, run: take },
};

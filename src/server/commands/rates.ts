/** The low-level rate limiter commands (the backend's rate take / leave). */
import type { RateAlgorithm, RateRequest, RateResult } from '../../backend.js';
import { ValidationError } from '../../errors.js';
import type { Connection } from '../caller.js';
import type { Reply } from '../reply.js';
import { algorithmArg, countArg, MAX_COUNT, msArg, nameArg, shown, tokenArg } from './args.js';
import type { CommandGroup } from './table.js';

/** What every rate request carries, checked: cost may not exceed what could ever fit. */
export function rateRequest(
  name: string,
  algorithm: RateAlgorithm,
  limit: number,
  window: number,
  burst: number,
  cost: string | undefined,
  token: string | null,
  waiterTtl: number,
): RateRequest {
  const most = algorithm === 'token-bucket' ? burst : limit;
  return { name, algorithm, limit, window, burst, cost: countArg(cost, 'cost', most), token, waiterTtl };
}

/**
 * `name algorithm limit window burst cost token|'' waiterTtl [EXACT]` →
 * `[allowed, remaining, retryAfter, resetIn, at, position]`, durations rounded up to whole ms;
 * with EXACT (protocol 2) also `retryAfter µs | -1, serverTime µs | -1`: the wait before it was
 * rounded, counted from the backend's decision at that time, so a head waiter asks again
 * exactly when its slot opens (-1: the backend did not say). A waiter (a token) waits itself:
 * wake-ups for it are pushed to its connection.
 */
function rateTake(connection: Connection, args: readonly string[]): Promise<Reply> {
  const [name, algorithm, limit, window, burst, cost, token, waiterTtl, exact] = args;
  if (exact !== undefined && exact.toUpperCase() !== 'EXACT') {
    throw new ValidationError(`the argument after waiterTtl can only be EXACT, got ${shown(exact)}`);
  }
  const request = rateRequest(
    nameArg(name),
    algorithmArg(algorithm),
    countArg(limit, 'limit', MAX_COUNT),
    msArg(window, 'window'),
    countArg(burst, 'burst', MAX_COUNT),
    cost,
    token === '' ? null : tokenArg(token),
    msArg(waiterTtl, 'waiterTtl'),
  );
  return connection.backend.rateTake(request, true).then(exact === undefined ? rateReply : exactRateReply);
}

function rateReply(result: RateResult): Reply[] {
  return [
    result.allowed ? 1 : 0,
    result.remaining,
    Math.ceil(result.retryAfter),
    Math.ceil(result.resetIn),
    Math.floor(result.at),
    result.position,
  ];
}

function exactRateReply(result: RateResult): Reply[] {
  const { exactRetryAfter, serverTime } = result;
  const micros = exactRetryAfter === undefined ? -1 : Math.ceil(Math.max(0, exactRetryAfter) * 1000);
  return [...rateReply(result), micros, serverTime ?? -1];
}

export const rateCommands: CommandGroup = {
  'HOLDFAST.RATETAKE': { min: 8, max: 9, run: rateTake },
  'HOLDFAST.RATELEAVE': {
    min: 2,
    max: 2,
    run: (c, [name, token]) => c.backend.rateLeave(nameArg(name), tokenArg(token)).then(() => 1),
  },
};

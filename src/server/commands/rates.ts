/** The low-level rate limiter commands (the backend's rate take / leave). */
import type { RateAlgorithm, RateRequest, RateResult } from '../../backend.js';
import type { Connection } from '../caller.js';
import type { Reply } from '../reply.js';
import { algorithmArg, countArg, MAX_COUNT, msArg, nameArg, tokenArg } from './args.js';
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
 * `name algorithm limit window burst cost token|'' waiterTtl` →
 * `[allowed, remaining, retryAfter, resetIn, at, position]`, durations rounded up to whole ms.
 * A waiter (a token) waits itself: wake-ups for it are pushed to its connection.
 */
function rateTake(connection: Connection, args: readonly string[]): Promise<Reply> {
  const [name, algorithm, limit, window, burst, cost, token, waiterTtl] = args;
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
  return connection.backend.rateTake(request, true).then(rateReply);
}

function rateReply(result: RateResult): Reply {
  return [
    result.allowed ? 1 : 0,
    result.remaining,
    Math.ceil(result.retryAfter),
    Math.ceil(result.resetIn),
    Math.floor(result.at),
    result.position,
  ];
}

export const rateCommands: CommandGroup = {
  'HOLDFAST.RATETAKE': { min: 8, max: 8, run: rateTake },
  'HOLDFAST.RATELEAVE': {
    min: 2,
    max: 2,
    run: (c, [name, token]) => c.backend.rateLeave(nameArg(name), tokenArg(token)).then(() => 1),
  },
};

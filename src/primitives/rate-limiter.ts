import {
  RATE_ALGORITHMS,
  type RateAlgorithm,
  type RateCapability,
  type RateRequest,
  type RateResult,
} from '../backend.js';
import { requireRateAlgorithm } from '../capabilities.js';
import type { ClientCore } from '../engine/core.js';
import { rateRetry } from '../engine/rate-retry.js';
import { type Line, waitInLine } from '../engine/waiter.js';
import { asBackendError, RateLimitTimeoutError, ValidationError } from '../errors.js';
import { type GrantPath, NO_ACQUISITION } from '../telemetry/telemetry.js';
import {
  checkBoolean,
  checkMs,
  checkName,
  checkOptions,
  checkPositiveInt,
  checkSignal,
  optional,
} from '../util/validate.js';
import { RefusalMemory } from './refusal-memory.js';

export type { RateAlgorithm } from '../backend.js';

export interface RateLimiterOptions {
  /** Admissions per `window` (counting each take's `n`). */
  readonly limit: number;
  /** The window length in ms. */
  readonly window: number;
  /**
   * `sliding-window` (default): never more than `limit` in any interval of length `window`.
   * `token-bucket`: a smooth `limit / window` rate with bursts up to `burst`.
   * `fixed-window`: at most `limit` per aligned window (up to 2 × limit across a boundary).
   */
  readonly algorithm?: RateAlgorithm;
  /** token-bucket only: the largest burst (default `limit`). */
  readonly burst?: number;
  /**
   * Remember a refusal until its `retryAfter` and answer tries for as much or more within it
   * locally, without a round trip (default true). It never admits by itself, so it cannot
   * over-admit; turn it off to have every try decided by the backend.
   */
  readonly localRefusals?: boolean;
}

export interface TakeResult {
  readonly allowed: boolean;
  /** How many more would be admitted right now. */
  readonly remaining: number;
  /** ms until this request could be admitted (0 when allowed). */
  readonly retryAfter: number;
  /** When the limiter is back to full capacity: ms since the epoch, on the backend's clock. */
  readonly resetAt: number;
  /** When the decision was made: ms since the epoch, on the backend's clock. */
  readonly at: number;
}

export interface TakeOptions {
  /** ms to wait for a slot; omitted waits until admitted or aborted. */
  readonly wait?: number;
  readonly signal?: AbortSignal;
}

/** The largest `limit` (and `burst`) a limiter may have. */
export const MAX_RATE_LIMIT = 1_000_000;

/**
 * "K requests per time slot across N servers" (seed 002), decided on the backend's clock.
 * `tryTake` answers at once; `take` waits for a slot in a FIFO queue shared by every process, so
 * one that hammers cannot starve one that waits.
 */
export class RateLimiter {
  readonly name: string;
  readonly limit: number;
  readonly window: number;
  readonly algorithm: RateAlgorithm;
  readonly burst: number;
  readonly #core: ClientCore;
  readonly #rates: RateCapability;
  readonly #refusals: RefusalMemory | null;

  /** @internal use `hf.rateLimiter(name, options)`. */
  constructor(core: ClientCore, name: unknown, options: RateLimiterOptions) {
    this.name = checkName(name);
    const keys = ['limit', 'window', 'algorithm', 'burst', 'localRefusals'];
    const raw = checkOptions<RateLimiterOptions>(options, keys, 'rateLimiter options');
    if (raw.limit === undefined || raw.window === undefined) {
      throw new ValidationError('rateLimiter options need `limit` and `window`');
    }
    this.limit = checkPositiveInt(raw.limit, 'limit', MAX_RATE_LIMIT);
    this.window = checkMs(raw.window, 'window');
    this.algorithm = optional(raw.algorithm, checkAlgorithm) ?? 'sliding-window';
    if (raw.burst !== undefined && this.algorithm !== 'token-bucket') {
      throw new ValidationError('burst applies to the token-bucket algorithm only');
    }
    this.burst = optional(raw.burst, (v) => checkPositiveInt(v, 'burst', MAX_RATE_LIMIT)) ?? this.limit;
    const local = optional(raw.localRefusals, (v) => checkBoolean(v, 'localRefusals')) ?? true;
    this.#refusals = local ? new RefusalMemory(core.clock) : null;
    this.#rates = requireRateAlgorithm(core.backend, this.algorithm, `rateLimiter("${this.name}")`);
    this.#core = core;
  }

  /**
   * Takes `n` (default 1) now if they fit: one round trip, never waits. A refusal is
   * remembered until its `retryAfter` (see `localRefusals`), so hammering costs no I/O.
   */
  async tryTake(n: number = 1): Promise<TakeResult> {
    const request = this.#request(n, null);
    this.#core.assertOpen();
    const remembered = this.#refusals?.answer(request.cost);
    if (remembered) {
      this.#core.telemetry.rateTried(this.name, false, true);
      return remembered;
    }
    const requestedAt = this.#core.clock.now();
    try {
      const result = toTake(await this.#rates.take(request));
      this.#refusals?.learn(request.cost, requestedAt, result);
      this.#core.telemetry.rateTried(this.name, result.allowed, false);
      return result;
    } catch (error) {
      throw asBackendError(error, `tryTake on "${this.name}"`);
    }
  }

  /**
   * Waits for room for `n` (default 1), in FIFO order with every other waiting process, and
   * resolves once admitted. Rejects with `RateLimitTimeoutError` after `wait` ms, or with
   * `signal.reason`; either way it leaves the queue.
   */
  async take(n: number = 1, options?: TakeOptions): Promise<TakeResult> {
    const raw = checkOptions<TakeOptions>(options, ['wait', 'signal'], 'take options');
    const wait = optional(raw.wait, (v) => checkMs(v, 'wait'));
    const signal = optional(raw.signal, (v) => checkSignal(v));
    this.#request(n, null);
    const rates = this.#rates;
    const seen = this.#core.telemetry.acquiring('rate-limiter', this.name, true);
    let path: GrantPath = 'immediate';
    const line: Line<TakeResult> = {
      name: this.name,
      ask: async (token) => {
        const result = await rates.take(this.#request(n, token));
        if (result.allowed) {
          seen.admitted(path);
          return { done: toTake(result) };
        }
        path = 'retry';
        return rateRetry(result);
      },
      leave: (token) => rates.leave(this.name, token),
      timeout: (waited) => new RateLimitTimeoutError(this.name, waited),
    };
    const waitOptions = { wait, signal };
    return seen === NO_ACQUISITION
      ? waitInLine(this.#core, line, waitOptions)
      : seen.around(() => waitInLine(this.#core, line, waitOptions));
  }

  #request(n: unknown, token: string | null): RateRequest {
    const most = this.algorithm === 'token-bucket' ? this.burst : this.limit;
    const cost = checkPositiveInt(n, 'n', most);
    const { name, algorithm, limit, window, burst } = this;
    return { name, algorithm, limit, window, burst, cost, token, waiterTtl: this.#core.waiterTtl };
  }
}

function checkAlgorithm(value: unknown): RateAlgorithm {
  if (!RATE_ALGORITHMS.includes(value as RateAlgorithm)) {
    throw new ValidationError(`algorithm must be one of ${RATE_ALGORITHMS.join(', ')}, got ${String(value)}`);
  }
  return value as RateAlgorithm;
}

function toTake(result: RateResult): TakeResult {
  const { allowed, remaining, retryAfter, resetIn, at } = result;
  return { allowed, remaining, retryAfter: Math.max(0, retryAfter), resetAt: at + resetIn, at };
}

/**
 * Rate-limiter adapters for the rate-limiter measures (rate.ts): holdfast's default sliding
 * window, holdfast's fixed window (informational: the algorithm rate-limiter-flexible uses) and
 * rate-limiter-flexible's RateLimiterRedis at its defaults (a fixed window that starts at a
 * key's first consume and ends when the key expires). Each adapter has one ioredis connection
 * (holdfast adds its subscriber).
 */
import { readFileSync } from 'node:fs';
import { connect, type RateAlgorithm, type RateLimiter } from 'holdfast';
import { Redis } from 'ioredis';
import { RateLimiterQueue, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { wallNow } from './stats.js';

export const RATE_LIBS = ['holdfast', 'hf fixed-window', 'rate-limiter-flexible'] as const;
export type RateLib = (typeof RATE_LIBS)[number];

/** Admissions per window, and the window in ms (whole seconds: rate-limiter-flexible's `duration` is in s). */
export const LIMIT = 1000;
export const WINDOW = 1000;

export interface Decision {
  readonly allowed: boolean;
  /**
   * When the decision was made, ms since the epoch: holdfast's `at` (the Redis server's clock,
   * whole ms); for rate-limiter-flexible, which reports no time, this process's wall clock
   * (wallNow) when the answer arrived.
   */
  readonly at: number;
  /**
   * rate-limiter-flexible only: ms until its window's key expires (its msBeforeNext, the key's
   * PTTL on the server at the decision), from which rate.ts estimates server times.
   */
  readonly expiresIn?: number;
}

export interface Filled {
  /** When the first slot opens again, ms on the same clock as Admitted.at. */
  readonly opensAt: number;
  /** ms from the fill's decision until then (a fixed window may be about to end anyway). */
  readonly remaining: number;
}

export interface Admitted {
  /** When the waiting take was admitted: holdfast's server `at`; peer: wallNow on arrival. */
  readonly at: number;
}

export interface RateLimiterAdapter {
  readonly lib: RateLib;
  /** One decision for 1, never waiting. */
  tryTake(key: string): Promise<Decision>;
  /** Takes all of LIMIT at once (an empty limiter is assumed) and says when a slot opens again. */
  fill(key: string): Promise<Filled>;
  /** Waits for 1 (holdfast take with wait; peer: its RateLimiterQueue) and says when admitted. */
  take(key: string): Promise<Admitted>;
  close(): Promise<void>;
}

const PREFIX = { holdfast: 'bench:hf:', rlf: 'bench:rlf' };
const TAKE_WAIT = 10_000;

export async function openRateLimiter(lib: RateLib, url: string): Promise<RateLimiterAdapter> {
  if (lib === 'rate-limiter-flexible') return openRlf(url);
  return openHoldfast(lib === 'holdfast' ? 'sliding-window' : 'fixed-window', url);
}

async function openHoldfast(algorithm: RateAlgorithm, url: string): Promise<RateLimiterAdapter> {
  const hf = await connect(url, { prefix: PREFIX.holdfast });
  // Created once per key and reused, as an application would.
  const limiters = new Map<string, RateLimiter>();
  const limiter = (key: string): RateLimiter => {
    let l = limiters.get(key);
    if (l === undefined) {
      l = hf.rateLimiter(`${algorithm}:${key}`, { limit: LIMIT, window: WINDOW, algorithm });
      limiters.set(key, l);
    }
    return l;
  };
  return {
    lib: algorithm === 'sliding-window' ? 'holdfast' : 'hf fixed-window',
    async tryTake(key) {
      const { allowed, at } = await limiter(key).tryTake();
      return { allowed, at };
    },
    async fill(key) {
      const { allowed, at } = await limiter(key).tryTake(LIMIT);
      if (!allowed) throw new Error(`fill of ${key} refused`);
      // Sliding: the batch leaves the window `WINDOW` after it came in; fixed: at the aligned
      // window's end (`at` is whole ms and WINDOW a whole number, so the floor agrees).
      const opensAt = algorithm === 'sliding-window' ? at + WINDOW : (Math.floor(at / WINDOW) + 1) * WINDOW;
      return { opensAt, remaining: opensAt - at };
    },
    async take(key) {
      const { at } = await limiter(key).take(1, { wait: TAKE_WAIT });
      return { at };
    },
    close: () => hf.close(),
  };
}

async function openRlf(url: string): Promise<RateLimiterAdapter> {
  const client = new Redis(url);
  await client.ping();
  const limiter = new RateLimiterRedis({
    storeClient: client,
    keyPrefix: PREFIX.rlf,
    points: LIMIT,
    duration: WINDOW / 1000,
  });
  const queue = new RateLimiterQueue(limiter);
  return {
    lib: 'rate-limiter-flexible',
    async tryTake(key) {
      try {
        const res = await limiter.consume(key, 1);
        return { allowed: true, at: wallNow(), expiresIn: res.msBeforeNext };
      } catch (rejection) {
        // Over the limit it rejects with a RateLimiterRes; anything else is a failure.
        if (rejection instanceof RateLimiterRes) return { allowed: false, at: wallNow() };
        throw rejection;
      }
    },
    async fill(key) {
      const sent = wallNow();
      const res = await limiter.consume(key, LIMIT);
      // The window ends when its key expires: msBeforeNext is the key's PTTL, read on the
      // server about halfway through the round trip.
      return { opensAt: (sent + wallNow()) / 2 + res.msBeforeNext, remaining: res.msBeforeNext };
    },
    async take(key) {
      await queue.removeTokens(1, key);
      return { at: wallNow() };
    },
    close: async () => {
      await client.quit();
    },
  };
}

export function rlfVersion(): string {
  const path = '../node_modules/rate-limiter-flexible/package.json';
  const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { version?: string };
  return `rate-limiter-flexible ${pkg.version ?? '?'}`;
}

/**
 * The operations of the differential test (memory vs Redis), as plain data so fast-check can
 * generate, shrink and print them. A sequence runs against a small fixed world:
 *
 * - CLIENTS backends per engine, sharing that engine's state;
 * - two lock names: `n0` a mutex (limit 1) and `n1` a semaphore (limit 3);
 * - three rate limiters, one per algorithm, whose parameters each sequence draws;
 * - TOKENS tokens per lock or limiter (token k of n0 is not token k of r1: real tokens are
 *   random). Token k always belongs to the same client (k % CLIENTS) and asks for the same
 *   permits and owner, as a real client's acquisition does; ops only pick which one.
 *
 * Times are whole ms, so both engines see exactly the same instants (no rounding to compare).
 */
import fc from 'fast-check';

export const CLIENTS = 3;
export const TOKENS = 6;
export const LOCKS = [
  { kind: 'mutex', limit: 1 },
  { kind: 'semaphore', limit: 3 },
] as const;

export type Op =
  | {
      readonly op: 'acquire';
      readonly name: number;
      readonly token: number;
      readonly ttl: number;
      readonly enqueue: boolean;
      readonly waiterTtl: number;
    }
  | { readonly op: 'release'; readonly name: number; readonly token: number }
  | { readonly op: 'extend'; readonly name: number; readonly token: number; readonly ttl: number }
  | {
      readonly op: 'extendMany';
      readonly items: readonly { readonly name: number; readonly token: number; readonly ttl: number }[];
    }
  | { readonly op: 'forceRelease'; readonly name: number }
  /** Lets time pass; every expiry on the way is swept at its instant on both engines. */
  | { readonly op: 'advance'; readonly ms: number }
  | {
      readonly op: 'rateTake';
      readonly limiter: number;
      readonly cost: number;
      /** null: a try; else a waiter's token. */
      readonly token: number | null;
      readonly waiterTtl: number;
    }
  | { readonly op: 'rateLeave'; readonly limiter: number; readonly token: number };

export interface LimiterConfig {
  readonly algorithm: 'sliding-window' | 'token-bucket' | 'fixed-window';
  readonly limit: number;
  readonly window: number;
  readonly burst: number;
}

export interface Scenario {
  readonly limiters: readonly LimiterConfig[];
  readonly ops: readonly Op[];
  /**
   * Whether the sequence runs with a watcher on its names (its events compared too). Without
   * one, Redis grants a free name in its sole holder's form and rewrites it in the general form
   * as soon as anything needs more (scripts/includes/sole.lua): both forms, and every step
   * between them, are held to the same replies.
   */
  readonly watched: boolean;
}

/** The permits token `token` asks for on lock `name`: 1 on a mutex, 1..3 on the semaphore. */
export function permitsOf(name: number, token: number): number {
  const lock = LOCKS[name] ?? LOCKS[0];
  return Math.min(lock.limit, 1 + (token % 3));
}

/** Owner JSON text of a token: some have none, the others a small object. */
export function ownerOf(token: number): string {
  return token % 2 === 0 ? '' : JSON.stringify({ token });
}

const name = fc.integer({ min: 0, max: LOCKS.length - 1 });
const token = fc.integer({ min: 0, max: TOKENS - 1 });
const ttl = fc.constantFrom(100, 500, 1000, 3000);
const waiterTtl = fc.constantFrom(300, 1000, 6000);
const limiter = fc.integer({ min: 0, max: 2 });

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('acquire' as const),
      name,
      token,
      ttl,
      // mostly queued, so that queues form and hand-offs happen
      enqueue: fc.boolean().chain((b) => (b ? fc.constant(true) : fc.boolean())),
      waiterTtl,
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('release' as const), name, token }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('extend' as const), name, token, ttl }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('extendMany' as const),
      items: fc.array(fc.record({ name, token, ttl }), { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('forceRelease' as const), name }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      // mostly less than a waiter entry lives, now and then past every TTL
      ms: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 1, max: 600 }) },
        { weight: 2, arbitrary: fc.constantFrom(100, 300, 500, 1000) },
        { weight: 1, arbitrary: fc.integer({ min: 1000, max: 7000 }) },
      ),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('rateTake' as const),
      limiter,
      cost: fc.integer({ min: 1, max: 2 }),
      token: fc.option(token, { nil: null, freq: 2 }),
      waiterTtl,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rateLeave' as const), limiter, token }) },
);

const window = fc.constantFrom(500, 1000, 3000);

export const scenario: fc.Arbitrary<Scenario> = fc.record({
  limiters: fc.tuple(
    fc.record({
      algorithm: fc.constant('sliding-window' as const),
      limit: fc.integer({ min: 2, max: 4 }),
      window,
      burst: fc.constant(0),
    }),
    fc
      .record({ limit: fc.integer({ min: 1, max: 4 }), window, extra: fc.integer({ min: 0, max: 2 }) })
      .map(({ limit, window, extra }) => ({ algorithm: 'token-bucket' as const, limit, window, burst: limit + extra })),
    fc.record({
      algorithm: fc.constant('fixed-window' as const),
      limit: fc.integer({ min: 2, max: 4 }),
      window,
      burst: fc.constant(0),
    }),
  ),
  ops: fc.array(op, { minLength: 1, maxLength: 40, size: 'max' }),
  watched: fc.boolean(),
});

/** One op as a short line, for failure messages: `acquire n1 t3 ttl=500 wait(waiterTtl=300)`. */
export function describeOp(op: Op): string {
  switch (op.op) {
    case 'acquire':
      return `acquire n${op.name} t${op.token} ttl=${op.ttl} ${op.enqueue ? `queue(waiterTtl=${op.waiterTtl})` : 'try'}`;
    case 'release':
      return `release n${op.name} t${op.token}`;
    case 'extend':
      return `extend n${op.name} t${op.token} ttl=${op.ttl}`;
    case 'extendMany':
      return `extendMany ${op.items.map((i) => `n${i.name} t${i.token} ttl=${i.ttl}`).join(', ')}`;
    case 'forceRelease':
      return `forceRelease n${op.name}`;
    case 'advance':
      return `advance ${op.ms} ms`;
    case 'rateTake':
      return `rateTake r${op.limiter} cost=${op.cost} ${op.token === null ? 'try' : `t${op.token} queue(waiterTtl=${op.waiterTtl})`}`;
    case 'rateLeave':
      return `rateLeave r${op.limiter} t${op.token}`;
  }
}

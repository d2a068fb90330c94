/**
 * Multi-process stress of the read-write lock, the rate limiter and the election on one engine
 * (each test file supplies its StressEngine). Worker processes record what they did on a clock
 * every process shares (or, for the rate limiter, the server's clock at each decision), and pure
 * checkers (checkers.ts, test/helpers/rate-checker.ts) judge the merged history:
 *
 * - rwlock (rwlock-stress.ts): no write overlaps any other hold, the writers' non-atomic counter
 *   loses no update;
 * - rate limiter (rate-stress.ts): no window [t, t + window) admits more than `limit`, with
 *   `tryTake` hammered and with `take` waiting, and waiting processes share the slots fairly;
 *   skipped where the backend declares no sliding-window limiter;
 * - election (election-stress.ts): a leader frozen with SIGSTOP past its TTL is replaced, learns
 *   on resume that its lease is invalid, and no two candidates ever believed in a valid lease at
 *   the same instant.
 *
 * Nothing sleeps and hopes: steps wait on IPC messages, or poll a condition with a deadline.
 */
import { describe } from 'node:test';
import { electionStress } from './election-stress.js';
import type { StressEngine } from './engine.js';
import { rateStress } from './rate-stress.js';
import { rwlockStress } from './rwlock-stress.js';

export function stressPrimitives(engine: StressEngine): void {
  describe(`primitives stress on ${engine.label}`, () => {
    rwlockStress(engine);
    rateStress(engine);
    electionStress(engine);
  });
}

/**
 * What the rate limiter contract (./rate-limiter.ts) checks per algorithm, and the helpers it
 * shares: token bucket (a burst, then a steady rate, never more than the GCRA allows) and fixed
 * window (reset at the window boundary, never more than `limit` per window). Times are exact on
 * the fake clock and compared loosely (±1 ms of rounding, never a tight deadline) on a real one.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Holdfast, RateLimiterOptions, TakeResult } from '../../src/index.js';
import type { World } from '../helpers/world.js';
import { clients } from './support.js';

export const WINDOW = 400;
/** Real ms added to a wait on the real clock, so the backend's clock has surely got there. */
export const SLACK = 5;

export function near(actual: number, expected: number, world: World, what: string): void {
  const tolerance = world.fake ? 0 : 1;
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected}`);
}

/** Waits out a refusal's retryAfter: exactly on a fake clock, a little more on a real one. */
export async function waitOut(world: World, result: TakeResult): Promise<void> {
  await world.advance(world.fake ? result.retryAfter : result.retryAfter + SLACK);
}

/** On a real clock, starts at the beginning of a fixed window (probed on another name). */
async function alignToWindow(world: World, hf: Holdfast): Promise<void> {
  const probe = await hf.rateLimiter('probe', { limit: 1, window: WINDOW, algorithm: 'fixed-window' }).tryTake();
  if (probe.resetAt - probe.at < WINDOW / 2) await world.advance(probe.resetAt - probe.at + SLACK);
}

/** Tries on 'r' for `windows` windows, waiting half the retryAfter after each refusal; the admissions. */
export async function admissions(
  world: World,
  hf: Holdfast,
  options: RateLimiterOptions,
  windows: number,
): Promise<TakeResult[]> {
  const limiter = hf.rateLimiter('r', options);
  const admitted: TakeResult[] = [];
  let start: number | undefined;
  for (;;) {
    const result = await limiter.tryTake();
    start ??= result.at;
    if (result.at - start >= windows * WINDOW) return admitted;
    if (result.allowed) admitted.push(result);
    else await world.advance(Math.max(1, Math.ceil(result.retryAfter / 2)));
  }
}

/** The per-algorithm tests, inside the rate limiter's describe. */
export function rateAlgorithmTests(world: () => World): void {
  it('token bucket: a burst of `burst`, then `limit` per `window` at a steady rate', async () => {
    const w = world();
    const [a] = await clients(w, 1);
    const interval = WINDOW / 2;
    const rl = a.rateLimiter('r', { limit: 2, window: WINDOW, algorithm: 'token-bucket', burst: 4 });
    for (let i = 0; i < 4; i++) {
      const result = await rl.tryTake();
      assert.deepEqual([result.allowed, result.remaining], [true, 3 - i], `burst take ${i + 1}`);
    }
    let refused = await rl.tryTake();
    assert.deepEqual([refused.allowed, refused.remaining], [false, 0]);
    assert.ok(refused.retryAfter > 0 && refused.retryAfter <= interval + 1, `retryAfter ${refused.retryAfter}`);
    assert.ok(refused.resetAt - refused.at > 3 * interval, 'full again only after the burst drained');
    for (let step = 0; step < 3; step++) {
      await waitOut(w, refused);
      const result = await rl.tryTake();
      assert.equal(result.allowed, true, `steady take ${step + 1}`);
      refused = await rl.tryTake();
      if (w.fake) {
        assert.equal(refused.allowed, false, 'two admitted within one interval');
        assert.equal(Math.ceil(refused.retryAfter), interval);
      }
      // On a real clock a slow sleep may have earned another token: spend it.
      while (refused.allowed) refused = await rl.tryTake();
    }
  });

  it('token bucket: never more than `burst` plus the rate in any interval', async () => {
    const w = world();
    const [a] = await clients(w, 1);
    const options: RateLimiterOptions = { limit: 2, window: WINDOW, algorithm: 'token-bucket', burst: 3 };
    const ats = (await admissions(w, a, options, 3)).map((r) => r.at);
    const interval = WINDOW / 2;
    const rounding = w.fake ? 0 : 1.5; // `at` is floored to the ms; the scripts keep 0.001 ms of slack
    for (let i = 0; i < ats.length; i++) {
      for (let j = i; j < ats.length; j++) {
        const most = 3 + ((ats[j] ?? 0) - (ats[i] ?? 0) + rounding) / interval;
        assert.ok(j - i + 1 <= most, `${j - i + 1} admitted in [${ats[i]}, ${ats[j]}]: ${ats.join(', ')}`);
      }
    }
    assert.ok(ats.length >= 3 + 4, `only ${ats.length} admitted`);
  });

  it('fixed window: `limit` per window, reset at the window boundary', async () => {
    const w = world();
    const [a] = await clients(w, 1);
    await alignToWindow(w, a);
    const rl = a.rateLimiter('r', { limit: 2, window: WINDOW, algorithm: 'fixed-window' });
    const first = await rl.tryTake();
    assert.deepEqual([first.allowed, first.remaining], [true, 1]);
    assert.ok(first.resetAt > first.at && first.resetAt <= first.at + WINDOW, 'resetAt within the window');
    const second = await rl.tryTake();
    assert.deepEqual([second.allowed, second.remaining, second.resetAt], [true, 0, first.resetAt]);
    const refused = await rl.tryTake();
    assert.equal(refused.allowed, false);
    near(refused.retryAfter, first.resetAt - refused.at, w, 'retryAfter: until the boundary');
    if (w.fake) {
      await w.advance(refused.retryAfter - 1);
      assert.equal((await rl.tryTake()).allowed, false, 'reset before the boundary');
      await w.advance(1);
    } else await waitOut(w, refused);
    const fresh = await rl.tryTake();
    assert.deepEqual([fresh.allowed, fresh.remaining], [true, 1], 'a fresh window');
    assert.ok(fresh.at >= first.resetAt);
    const step = fresh.resetAt - first.resetAt;
    assert.ok(step > 0 && step % WINDOW === 0, `windows not aligned: resetAt moved by ${step}`);
  });

  it('fixed window: never more than `limit` per window', async () => {
    const w = world();
    const [a] = await clients(w, 1);
    const results = await admissions(w, a, { limit: 3, window: WINDOW, algorithm: 'fixed-window' }, 3);
    const perWindow = new Map<number, number>();
    for (const { at, resetAt } of results) {
      assert.ok(at >= resetAt - WINDOW && at < resetAt, `admitted at ${at} outside its window ending ${resetAt}`);
      perWindow.set(resetAt, (perWindow.get(resetAt) ?? 0) + 1);
    }
    for (const [end, count] of perWindow) assert.ok(count <= 3, `${count} admitted in the window ending ${end}`);
    assert.ok(results.length >= 6, `only ${results.length} admitted`);
  });

  it('answers in whole milliseconds, like every backend', async () => {
    const w = world();
    const [a] = await clients(w, 1);
    for (const algorithm of ['sliding-window', 'token-bucket', 'fixed-window'] as const) {
      const rl = a.rateLimiter(algorithm, { limit: 2, window: WINDOW, algorithm });
      for (let i = 0; i < 3; i++) {
        const result = await rl.tryTake();
        for (const key of ['remaining', 'retryAfter', 'resetAt', 'at'] as const) {
          assert.ok(Number.isInteger(result[key]), `${algorithm} take ${i + 1}: ${key} = ${result[key]}`);
        }
      }
    }
  });

  // A window of 60 000 ms is a wall-clock minute on every backend.
  it('fixed window: windows are aligned to the epoch', async () => {
    const [a] = await clients(world(), 1);
    for (const window of [WINDOW, 1000, 60_000]) {
      const result = await a.rateLimiter(`r${window}`, { limit: 1, window, algorithm: 'fixed-window' }).tryTake();
      assert.equal(result.resetAt % window, 0, `window ${window}: resets at ${result.resetAt}`);
    }
  });
}

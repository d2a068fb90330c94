/**
 * Rate limiter contract (seed 002; the algorithms and FIFO rules of `RateAlgorithm` in
 * src/backend.ts): the exact sliding window, `take()` waiting FIFO across clients, tries refused
 * while someone waits, timeouts and aborts that leave the queue, costs of n > 1; then each
 * algorithm (./rate-algorithms.ts). Times are exact on the fake clock and compared loosely
 * (±1 ms of rounding, never a tight deadline) on a real one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LockTimeoutError, type RateLimiterOptions, RateLimitTimeoutError } from '../../src/index.js';
import { settled, withTimeout } from '../helpers/wait.js';
import type { WorldFactory } from '../helpers/world.js';
import { record } from './events.js';
import { admissions, near, rateAlgorithmTests, SLACK, WINDOW, waitOut } from './rate-algorithms.js';
import { clients, EVENT, useWorld } from './support.js';

export function rateLimiterContract(factory: WorldFactory): void {
  describe('rate limiter', () => {
    const world = useWorld(factory);
    const sliding: RateLimiterOptions = { limit: 3, window: WINDOW };

    it('sliding window: admits `limit`, then refuses until the oldest admission leaves', async () => {
      const w = world();
      const [a, b] = await clients(w, 2);
      const rl = a.rateLimiter('r', sliding);
      const first = await rl.tryTake();
      assert.deepEqual([first.allowed, first.remaining, first.retryAfter], [true, 2, 0]);
      assert.equal(first.resetAt, first.at + WINDOW);
      if (!w.fake) assert.ok(Math.abs(first.at - Date.now()) < 2000, `at ${first.at} is not epoch ms`);
      await w.advance(100);
      const second = await b.rateLimiter('r', sliding).tryTake();
      assert.deepEqual([second.allowed, second.remaining], [true, 1], 'shared by every client');
      if (w.fake) assert.equal(second.at - first.at, 100);
      const third = await rl.tryTake();
      assert.deepEqual([third.allowed, third.remaining], [true, 0]);
      assert.equal(third.resetAt, third.at + WINDOW);
      const refused = await rl.tryTake();
      assert.deepEqual([refused.allowed, refused.remaining], [false, 0]);
      near(refused.retryAfter, first.at + WINDOW - refused.at, w, 'retryAfter: until the oldest leaves');
      near(refused.resetAt, third.at + WINDOW, w, 'resetAt: when the newest leaves');
      if (w.fake) {
        await w.advance(refused.retryAfter - 1);
        assert.equal((await rl.tryTake()).allowed, false, 'admitted before the oldest left');
        await w.advance(1);
      } else await waitOut(w, refused);
      const fourth = await rl.tryTake();
      assert.equal(fourth.allowed, true, 'the oldest admission has left the window');
      if (w.fake) assert.equal(fourth.remaining, 0);
      assert.ok(fourth.at - first.at >= WINDOW);
    });

    it('sliding window: never more than `limit` in any interval of `window` ms', async () => {
      const w = world();
      const [a] = await clients(w, 1);
      const ats = (await admissions(w, a, sliding, 3)).map((r) => r.at);
      for (const at of ats) {
        const inside = ats.filter((t) => t >= at && t < at + WINDOW).length;
        assert.ok(inside <= 3, `${inside} admissions in [${at}, ${at + WINDOW}): ${ats.join(', ')}`);
      }
      assert.ok(ats.length >= (w.fake ? 9 : 6), `only ${ats.length} admitted in 3 windows`);
    });

    it('counts `n` against the limit', async () => {
      const w = world();
      const [a] = await clients(w, 1);
      const rl = a.rateLimiter('r', sliding);
      const two = await rl.tryTake(2);
      assert.deepEqual([two.allowed, two.remaining], [true, 1]);
      const refused = await rl.tryTake(2);
      assert.deepEqual([refused.allowed, refused.remaining], [false, 1]);
      near(refused.retryAfter, two.at + WINDOW - refused.at, w, 'retryAfter for 2');
      const one = await rl.tryTake(1);
      assert.deepEqual([one.allowed, one.remaining], [true, 0], 'a smaller request still fits');
    });

    it('take() waits and is admitted when the slot opens', async () => {
      const w = world();
      const [a, b] = await clients(w, 2);
      const events = await record(b, 'r');
      const rl = a.rateLimiter('r', { limit: 2, window: WINDOW });
      const first = await rl.tryTake();
      await rl.tryTake();
      const refused = await rl.tryTake();
      assert.equal(refused.allowed, false);
      const taking = b.rateLimiter('r', { limit: 2, window: WINDOW }).take();
      await events.next('waiting', 'r');
      if (w.fake) {
        await w.advance(refused.retryAfter - 1);
        assert.equal(await settled(taking), false, 'admitted before its slot opened');
        await w.advance(2);
      }
      const admitted = await withTimeout(taking, EVENT, 'the waiting take');
      assert.equal(admitted.allowed, true);
      assert.equal(admitted.retryAfter, 0);
      assert.ok(admitted.at - first.at >= WINDOW, `admitted ${admitted.at - first.at} ms after the first`);
      if (w.fake) assert.ok(admitted.at - first.at <= WINDOW + 1, 'admitted late');
      await events.close();
    });

    it('serves waiters on different clients in FIFO order', async () => {
      const w = world();
      const [a, b, c] = await clients(w, 3);
      const events = await record(a, 'r');
      const options = { limit: 1, window: WINDOW };
      await a.rateLimiter('r', options).tryTake();
      const order: string[] = [];
      const bTake = b.rateLimiter('r', options).take();
      void bTake.then(() => order.push('b'));
      await events.next('waiting');
      const cTake = c.rateLimiter('r', options).take();
      void cTake.then(() => order.push('c'));
      await events.next('waiting');
      await w.advance(WINDOW + 1);
      const bResult = await withTimeout(bTake, EVENT, 'the first waiter');
      assert.equal(await settled(cTake), false, 'two admitted within one window');
      assert.deepEqual(order, ['b']);
      await w.advance(WINDOW + 1);
      const cResult = await withTimeout(cTake, EVENT, 'the second waiter');
      assert.deepEqual(order, ['b', 'c']);
      assert.ok(cResult.at - bResult.at >= WINDOW);
      await events.close();
    });

    it('refuses tries while someone waits, even when they would fit', async () => {
      const w = world();
      const [a, b, c] = await clients(w, 3);
      const events = await record(a, 'r');
      const first = await a.rateLimiter('r', sliding).tryTake(2);
      const waiting = b.rateLimiter('r', sliding).take(2);
      await events.next('waiting');
      const jumped = await c.rateLimiter('r', sliding).tryTake(1);
      assert.equal(jumped.allowed, false, 'a try jumped the queue');
      near(jumped.retryAfter, first.at + WINDOW - jumped.at, w, 'retryAfter: until the queue and the try fit');
      await w.advance(jumped.retryAfter + 1); // a waiter asks again 1 ms after the retryAfter it was told
      const admitted = await withTimeout(waiting, EVENT, 'the waiter for 2');
      assert.equal(admitted.remaining, 1);
      const after = await c.rateLimiter('r', sliding).tryTake(1);
      assert.deepEqual([after.allowed, after.remaining], [true, 0], 'tries go through once nobody waits');
      await events.close();
    });

    it('take({ wait }) rejects with RateLimitTimeoutError and leaves the queue', async () => {
      const w = world();
      const [a, b, c] = await clients(w, 3);
      const events = await record(a, 'r');
      const options = { limit: 1, window: WINDOW };
      await a.rateLimiter('r', options).tryTake();
      const outcome = assert.rejects(b.rateLimiter('r', options).take(1, { wait: 100 }), (error) => {
        assert.ok(error instanceof RateLimitTimeoutError);
        assert.ok(error instanceof LockTimeoutError);
        assert.equal(error.code, 'LOCK_TIMEOUT');
        return true;
      });
      await events.next('waiting');
      const next = c.rateLimiter('r', options).take();
      await events.next('waiting');
      await w.advance(150);
      await withTimeout(outcome, EVENT, 'the RateLimitTimeoutError');
      assert.equal((await events.next('left')).permits, 1);
      await w.advance(WINDOW);
      const admitted = await withTimeout(next, EVENT, 'the next waiter to get the slot');
      assert.equal(admitted.allowed, true);
      await events.close();
    });

    it('take() rejects with signal.reason when aborted and leaves the queue', async () => {
      const w = world();
      const [a, b, c] = await clients(w, 3);
      const events = await record(a, 'r');
      const options = { limit: 1, window: WINDOW };
      const first = await a.rateLimiter('r', options).tryTake();
      const controller = new AbortController();
      const reason = new Error('no longer needed');
      const outcome = assert.rejects(
        b.rateLimiter('r', options).take(1, { signal: controller.signal }),
        (e) => e === reason,
      );
      await events.next('waiting');
      controller.abort(reason);
      await withTimeout(outcome, EVENT, 'the abort');
      await events.next('left');
      await w.advance(first.resetAt - first.at + (w.fake ? 0 : SLACK));
      const free = await c.rateLimiter('r', options).tryTake();
      assert.equal(free.allowed, true, 'the aborted waiter still holds the queue');
      await events.close();
    });

    rateAlgorithmTests(world);
  });
}

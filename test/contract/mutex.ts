/**
 * Mutex contract (DESIGN.md semantics 1, 3, 5, 6): exclusion, FIFO hand-off by push, expiry
 * take-over, fences, and waiters that time out or are aborted leave the queue.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Lease, LockTimeoutError } from '../../src/index.js';
import { settled, withTimeout } from '../helpers/wait.js';
import type { WorldFactory } from '../helpers/world.js';
import { clients, EVENT, holderFences, PAST_SHORT_TTL, queued, SHORT_TTL, turns, useWorld } from './support.js';

export function mutexContract(factory: WorldFactory): void {
  describe('mutex', () => {
    const world = useWorld(factory);

    it('has one holder at a time: tryAcquire returns null while held', async () => {
      const [a, b] = await clients(world(), 2);
      const first = await a.mutex('m').tryAcquire();
      assert.ok(first, 'a free mutex is granted');
      assert.equal(await b.mutex('m').tryAcquire(), null);
      assert.equal(await a.mutex('m').tryAcquire(), null, 'not reentrant, even for the same client');
      assert.equal(await first.release(), true);
      const second = await b.mutex('m').tryAcquire();
      assert.ok(second, 'free again after release');
      await second.release();
    });

    it('never runs two withLock bodies at once', async () => {
      const hfs = await clients(world(), 3);
      let inside = 0;
      let ran = 0;
      const body = async (): Promise<void> => {
        inside++;
        assert.equal(inside, 1, 'two holders inside the critical section');
        await turns(2);
        inside--;
        ran++;
      };
      const runs = Array.from({ length: 9 }, (_, i) => hfs[i % 3]?.mutex('m').withLock(body));
      await withTimeout(Promise.all(runs), EVENT * 2, 'every withLock to run');
      assert.equal(ran, 9);
    });

    it('grants queued waiters in FIFO order', async () => {
      const [a, ...waiting] = await clients(world(), 4);
      const holder = await a.mutex('m').tryAcquire();
      assert.ok(holder);
      const order: string[] = [];
      const pending: Promise<Lease>[] = [];
      for (const [i, hf] of waiting.entries()) {
        const p = hf.mutex('m').acquire();
        void p.then(() => order.push(`w${i}`));
        pending.push(p);
        await queued(a, 'm', i + 1); // make the queue order certain
      }
      const [w0, w1, w2] = pending;
      assert.ok(w0 && w1 && w2);
      await holder.release();
      const l0 = await withTimeout(w0, EVENT, 'the first waiter');
      assert.deepEqual(order, ['w0']);
      assert.equal(await settled(w1), false, 'the second waiter must still wait');
      await l0.release();
      const l1 = await withTimeout(w1, EVENT, 'the second waiter');
      await l1.release();
      const l2 = await withTimeout(w2, EVENT, 'the third waiter');
      assert.deepEqual(order, ['w0', 'w1', 'w2']);
      await l2.release();
    });

    it('hands the lock to the head waiter on release, without time passing (push, not poll)', async () => {
      const w = world();
      const [a, c] = await clients(w, 2);
      // Its safety timer (a third of waiterTtl) cannot fire within EVENT on a real clock either.
      const b = await w.connect({ waiterTtl: 60_000 });
      const holder = await a.mutex('m', { ttl: 60_000 }).tryAcquire();
      assert.ok(holder);
      const waiting = b.mutex('m').acquire();
      await queued(a, 'm', 1);
      await holder.release();
      // On a fake clock no timer can fire here: only the release's notification can grant it.
      const lease = await withTimeout(waiting, EVENT, 'the hand-off to the waiter');
      assert.equal(lease.valid, true);
      assert.deepEqual(await holderFences(c, 'm'), [lease.fence]);
      assert.equal(await c.mutex('m').tryAcquire(), null, 'handed off, not merely freed');
      await lease.release();
    });

    it('lets a waiter take over when the holder lets its TTL run out', async () => {
      const w = world();
      const [a, b] = await clients(w, 2);
      const holder = await a.mutex('m', { ttl: SHORT_TTL, autoExtend: false }).tryAcquire();
      assert.ok(holder);
      const waiting = b.mutex('m').acquire();
      await queued(b, 'm', 1);
      await w.advance(PAST_SHORT_TTL);
      const lease = await withTimeout(waiting, EVENT, 'the waiter to take over the expired lock');
      assert.ok(lease.fence > holder.fence);
      assert.equal(holder.valid, false);
      assert.equal(lease.valid, true);
      await lease.release();
    });

    it('gives strictly increasing fences across grants, expiry and hand-off', async () => {
      const w = world();
      const [a, b] = await clients(w, 2);
      const fences: bigint[] = [];
      const first = await a.mutex('m').tryAcquire();
      assert.ok(first);
      fences.push(first.fence);
      await first.release();
      const expiring = await b.mutex('m', { ttl: SHORT_TTL, autoExtend: false }).tryAcquire();
      assert.ok(expiring);
      fences.push(expiring.fence);
      await w.advance(PAST_SHORT_TTL);
      const afterExpiry = await a.mutex('m').tryAcquire();
      assert.ok(afterExpiry, 'free after expiry');
      fences.push(afterExpiry.fence);
      const waiting = b.mutex('m').acquire();
      await queued(a, 'm', 1);
      await afterExpiry.release();
      const handedOff = await withTimeout(waiting, EVENT, 'the hand-off');
      fences.push(handedOff.fence);
      await handedOff.release();
      for (const [i, fence] of fences.entries()) {
        assert.equal(typeof fence, 'bigint');
        if (i > 0) assert.ok(fence > (fences[i - 1] ?? fence), `fences not increasing: ${fences.join(', ')}`);
      }
    });

    it('rejects a waiter with LockTimeoutError after `wait`; it leaves the queue', async () => {
      const w = world();
      const [a, b, c] = await clients(w, 3);
      const holder = await a.mutex('m').tryAcquire();
      assert.ok(holder);
      // The wait outlasts the time it takes to see the waiter queued on a loaded machine.
      const outcome = assert.rejects(b.mutex('m').acquire({ wait: SHORT_TTL }), LockTimeoutError);
      await queued(a, 'm', 1);
      await w.advance(PAST_SHORT_TTL);
      await withTimeout(outcome, EVENT, 'the LockTimeoutError');
      await queued(a, 'm', 0);
      await holder.release();
      const next = await c.mutex('m').tryAcquire();
      assert.ok(next, 'the release must not have been handed to the timed-out waiter');
      await next.release();
    });

    it('rejects an aborted waiter with signal.reason; it leaves the queue', async () => {
      const [a, b, c] = await clients(world(), 3);
      const holder = await a.mutex('m').tryAcquire();
      assert.ok(holder);
      const controller = new AbortController();
      const reason = new Error('no longer needed');
      const outcome = assert.rejects(b.mutex('m').acquire({ signal: controller.signal }), (e) => e === reason);
      await queued(a, 'm', 1);
      controller.abort(reason);
      await withTimeout(outcome, EVENT, 'the abort');
      await queued(a, 'm', 0);
      await holder.release();
      const next = await c.mutex('m').tryAcquire();
      assert.ok(next, 'the release must not have been handed to the aborted waiter');
      await next.release();
    });

    it('keeps a live waiter queued for longer than its waiterTtl', async () => {
      const w = world();
      const a = await w.connect();
      const b = await w.connect({ waiterTtl: 300 });
      const holder = await a.mutex('m', { ttl: 1000 }).tryAcquire();
      assert.ok(holder);
      const waiting = b.mutex('m').acquire();
      await queued(a, 'm', 1);
      for (let i = 0; i < 8; i++) await w.advance(150);
      await queued(a, 'm', 1);
      assert.equal(holder.valid, true);
      await holder.release();
      const lease = await withTimeout(waiting, EVENT, 'the long-queued waiter');
      await lease.release();
    });
  });
}

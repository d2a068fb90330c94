/**
 * Semaphore contract (DESIGN.md semantics 1, 3, 6): never more than `permits` in use, weighted
 * requests served strictly FIFO (no starvation of a large request), permits of an expired holder
 * come back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Lease } from '../../src/index.js';
import { settled, withTimeout } from '../helpers/wait.js';
import type { WorldFactory } from '../helpers/world.js';
import { clients, EVENT, PAST_SHORT_TTL, permitsInUse, queued, SHORT_TTL, turns, useWorld } from './support.js';

export function semaphoreContract(factory: WorldFactory): void {
  describe('semaphore', () => {
    const world = useWorld(factory);

    it('grants at most `permits` at once; tryAcquire returns null when full', async () => {
      const hfs = await clients(world(), 4);
      const leases: Lease[] = [];
      for (const hf of hfs.slice(0, 3)) {
        const lease = await hf.semaphore('s', { permits: 3 }).tryAcquire();
        assert.ok(lease, 'a free permit is granted');
        assert.equal(lease.permits, 1);
        leases.push(lease);
      }
      const fourth = hfs[3]?.semaphore('s', { permits: 3 });
      assert.ok(fourth);
      assert.equal(await fourth.tryAcquire(), null);
      const state = await hfs[3]?.inspect('s');
      assert.equal(state?.kind, 'semaphore');
      assert.equal(state?.limit, 3);
      assert.equal(state?.holders.length, 3);
      await leases[0]?.release();
      const freed = await fourth.tryAcquire();
      assert.ok(freed, 'a released permit can be taken');
      for (const lease of [...leases, freed]) await lease.release();
    });

    it('never has more than `permits` withLock bodies running', async () => {
      const hfs = await clients(world(), 3);
      let inUse = 0;
      let most = 0;
      let ran = 0;
      const body = async (): Promise<void> => {
        inUse++;
        most = Math.max(most, inUse);
        await turns(2);
        inUse--;
        ran++;
      };
      const runs = Array.from({ length: 10 }, (_, i) => hfs[i % 3]?.semaphore('s', { permits: 3 }).withLock(body));
      await withTimeout(Promise.all(runs), EVENT * 2, 'every withLock to run');
      assert.equal(ran, 10);
      assert.ok(most <= 3, `${most} holders at once`);
    });

    it('takes several permits per lease when asked', async () => {
      const [a, b] = await clients(world(), 2);
      const big = await a.semaphore('s', { permits: 3 }).tryAcquire({ permits: 2 });
      assert.ok(big);
      assert.equal(big.permits, 2);
      assert.equal(await permitsInUse(b, 's'), 2);
      assert.equal(await b.semaphore('s', { permits: 3 }).tryAcquire({ permits: 2 }), null);
      const small = await b.semaphore('s', { permits: 3 }).tryAcquire({ permits: 1 });
      assert.ok(small, 'one permit is still free');
      await big.release();
      await small.release();
    });

    it('does not let smaller requests overtake a larger one at the head of the queue', async () => {
      const [a, b, c, d] = await clients(world(), 4);
      const held = await a.semaphore('s', { permits: 3 }).tryAcquire({ permits: 2 });
      assert.ok(held);
      const big = b.semaphore('s', { permits: 3 }).acquire({ permits: 2 });
      await queued(a, 's', 1);
      const small = c.semaphore('s', { permits: 3 }).acquire({ permits: 1 });
      await queued(a, 's', 2);
      // One permit is free, but the request for 2 came first.
      assert.equal(await settled(small), false, 'the request for 1 overtook the queued request for 2');
      assert.equal(await permitsInUse(a, 's'), 2);
      assert.equal(await d.semaphore('s', { permits: 3 }).tryAcquire(), null, 'a try jumped the queue');
      await held.release();
      const bigLease = await withTimeout(big, EVENT, 'the request for 2');
      const smallLease = await withTimeout(small, EVENT, 'the request for 1 behind it');
      assert.ok(bigLease.fence < smallLease.fence, 'granted in queue order');
      assert.equal(await permitsInUse(a, 's'), 3);
      await bigLease.release();
      await smallLease.release();
    });

    it('serves single-permit waiters in FIFO order as permits free up', async () => {
      const [a, ...waiting] = await clients(world(), 4);
      const held = await a.semaphore('s', { permits: 2 }).tryAcquire({ permits: 2 });
      assert.ok(held);
      const pending: Promise<Lease>[] = [];
      for (const [i, hf] of waiting.entries()) {
        pending.push(hf.semaphore('s', { permits: 2 }).acquire());
        await queued(a, 's', i + 1);
      }
      const [w0, w1, w2] = pending;
      assert.ok(w0 && w1 && w2);
      await held.release();
      const l0 = await withTimeout(w0, EVENT, 'the first waiter');
      const l1 = await withTimeout(w1, EVENT, 'the second waiter');
      assert.equal(await settled(w2), false, 'three holders of a 2-permit semaphore');
      await l0.release();
      const l2 = await withTimeout(w2, EVENT, 'the third waiter');
      await l1.release();
      await l2.release();
    });

    it('gives back the permits of a holder whose TTL ran out', async () => {
      const w = world();
      const [a, b] = await clients(w, 2);
      const expiring = await a.semaphore('s', { permits: 2, ttl: SHORT_TTL, autoExtend: false }).tryAcquire({
        permits: 2,
      });
      assert.ok(expiring);
      assert.equal(await b.semaphore('s', { permits: 2 }).tryAcquire(), null);
      const waiting = b.semaphore('s', { permits: 2 }).acquire({ permits: 2 });
      await queued(b, 's', 1);
      await w.advance(PAST_SHORT_TTL);
      const lease = await withTimeout(waiting, EVENT, 'the expired holder’s permits');
      assert.equal(lease.permits, 2);
      assert.equal(expiring.valid, false);
      await lease.release();
    });

    it('forceRelease removes every holder and serves the queue', async () => {
      const [a, b, c] = await clients(world(), 3);
      const one = await a.semaphore('s', { permits: 2 }).tryAcquire();
      const two = await b.semaphore('s', { permits: 2 }).tryAcquire();
      assert.ok(one && two);
      const waiting = c.semaphore('s', { permits: 2 }).acquire({ permits: 2 });
      await queued(c, 's', 1);
      assert.equal(await c.forceRelease('s'), 2);
      const lease = await withTimeout(waiting, EVENT, 'the waiter after forceRelease');
      assert.equal(lease.permits, 2);
      await lease.release();
    });
  });
}

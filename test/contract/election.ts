/**
 * Election contract: one leader at a time over a fenced lease, candidates wait FIFO and take over
 * by hand-off when the leader resigns, a leader that lost its lease is told through its signal,
 * `leader()` and `observe()` show who leads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Leader, type Lease, LeaseLostError } from '../../src/index.js';
import { aborted, settled, withTimeout } from '../helpers/wait.js';
import type { WorldFactory } from '../helpers/world.js';
import { clients, EVENT, queued, SHORT_TTL, turns, useWorld } from './support.js';

export function electionContract(factory: WorldFactory): void {
  describe('election', () => {
    const world = useWorld(factory);

    it('the first candidate leads; the second waits; leader() shows the first', async () => {
      const [a, b, c] = await clients(world(), 3);
      assert.equal(await c.election('e').leader(), null, 'nobody leads yet');
      const lease = await a.election('e').campaign({ value: { host: 'a', port: 7 } });
      assert.equal(lease.valid, true);
      assert.equal(typeof lease.fence, 'bigint');
      const second = b.election('e').campaign({ value: 'b' });
      await queued(c, 'e', 1);
      assert.equal(await settled(second), false, 'two leaders');
      assert.deepEqual(await c.election('e').leader(), { value: { host: 'a', port: 7 }, fence: lease.fence });
      assert.equal((await c.inspect('e'))?.kind, 'election');
      await lease.release();
      await (await withTimeout(second, EVENT, 'the second candidate')).release();
    });

    it('resign() hands leadership to the next candidate with a larger fence', async () => {
      const w = world();
      const [a, c] = await clients(w, 2);
      const b = await w.connect({ waiterTtl: 60_000 }); // only the hand-off can make it lead in time
      const first = a.election('e');
      const lease = await first.campaign({ value: 'a' });
      const next = b.election('e');
      const campaigning = next.campaign({ value: 'b' });
      await queued(c, 'e', 1);
      assert.equal(await first.resign(), true);
      assert.equal(lease.valid, false, 'the resigned lease still looks valid');
      const nextLease = await withTimeout(campaigning, EVENT, 'the hand-off to the next candidate');
      assert.ok(nextLease.fence > lease.fence, 'the new leader’s fence is not larger');
      assert.deepEqual(await c.election('e').leader(), { value: 'b', fence: nextLease.fence });
      assert.equal(await first.resign(), false, 'a second resign');
      assert.equal(await next.resign(), true);
      assert.equal(await c.election('e').leader(), null);
    });

    it('a leader whose lease is taken away is told through its signal', async () => {
      const w = world();
      const [a, b, c] = await clients(w, 3);
      const lease = await a.election('e', { ttl: SHORT_TTL }).campaign({ value: 'a' });
      const lost = aborted(lease.signal);
      const campaigning = b.election('e').campaign({ value: 'b' });
      await queued(c, 'e', 1);
      assert.equal(await c.forceRelease('e'), 1);
      const nextLease = await withTimeout(campaigning, EVENT, 'the next candidate after the forced release');
      await w.advance(SHORT_TTL / 2); // past the old leader's next renewal
      const reason = await withTimeout(lost, EVENT, 'the old leader’s signal to abort');
      assert.ok(reason instanceof LeaseLostError, `reason: ${String(reason)}`);
      assert.equal(lease.valid, false);
      assert.ok(nextLease.fence > lease.fence);
      assert.deepEqual(await c.election('e').leader(), { value: 'b', fence: nextLease.fence });
      await nextLease.release();
    });

    it('observe() yields the current leader, then every change', async () => {
      const [a, b, c] = await clients(world(), 3);
      const controller = new AbortController();
      const changes = c.election('e').observe({ signal: controller.signal });
      const step = async (what: string): Promise<Leader | null> => {
        const result = await withTimeout(changes.next(), EVENT, what);
        assert.equal(result.done, false, `observe() ended before ${what}`);
        return result.value as Leader | null;
      };
      assert.equal(await step('the current leader (nobody)'), null);
      const first = a.election('e');
      const lease = await first.campaign({ value: { id: 'a' } });
      assert.deepEqual(await step('the first leader'), { value: { id: 'a' }, fence: lease.fence });
      const campaigning = b.election('e').campaign({ value: { id: 'b' } });
      await queued(c, 'e', 1);
      await first.resign();
      assert.equal(await step('nobody, after the resignation'), null);
      const nextLease = await withTimeout(campaigning, EVENT, 'the next leader');
      assert.deepEqual(await step('the next leader'), { value: { id: 'b' }, fence: nextLease.fence });
      const ending = changes.next();
      controller.abort();
      assert.equal((await withTimeout(ending, EVENT, 'observe() to end on abort')).done, true);
      await nextLease.release();
    });

    it('observe() starts with a leader that was elected before it', async () => {
      const [a, c] = await clients(world(), 2);
      const lease = await a.election('e').campaign({ value: 7 });
      const changes = c.election('e').observe();
      const first = await withTimeout(changes.next(), EVENT, 'the current leader');
      assert.deepEqual(first.value, { value: 7, fence: lease.fence });
      await lease.release();
      assert.equal((await withTimeout(changes.next(), EVENT, 'the resignation')).value, null);
      assert.equal((await changes.return(undefined)).done, true);
    });

    it('never has two leaders at once', async () => {
      const hfs = await clients(world(), 3);
      let leading = 0;
      let terms = 0;
      const fences: bigint[] = [];
      const candidate = async (i: number): Promise<void> => {
        const election = hfs[i]?.election('e');
        assert.ok(election);
        for (let term = 0; term < 3; term++) {
          const lease: Lease = await election.campaign({ value: i });
          leading++;
          assert.equal(leading, 1, 'two leaders at once');
          fences.push(lease.fence);
          const shown = await hfs[(i + 1) % 3]?.election('e').leader();
          assert.deepEqual(shown, { value: i, fence: lease.fence });
          await turns(2);
          leading--;
          terms++;
          await election.resign();
        }
      };
      await withTimeout(Promise.all([0, 1, 2].map(candidate)), EVENT * 2, 'every term to run');
      assert.equal(terms, 9);
      for (let i = 1; i < fences.length; i++)
        assert.ok((fences[i] ?? 0n) > (fences[i - 1] ?? 0n), 'fences out of order');
    });
  });
}

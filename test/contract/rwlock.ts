/**
 * Read-write lock contract (DESIGN.md semantics 1, 3, 5, 6): many readers or one writer,
 * writer-preferring FIFO (a waiting writer is not overtaken by later readers), push hand-off
 * from the last reader to the writer, a crashed reader blocks only until its TTL, fences.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Lease } from '../../src/index.js';
import { settled, withTimeout } from '../helpers/wait.js';
import type { WorldFactory } from '../helpers/world.js';
import { record } from './events.js';
import { clients, EVENT, holderFences, PAST_SHORT_TTL, queued, SHORT_TTL, useWorld } from './support.js';

export function rwlockContract(factory: WorldFactory): void {
  describe('rwlock', () => {
    const world = useWorld(factory);

    it('lets many readers hold it at once', async () => {
      const hfs = await clients(world(), 3);
      const readers: Lease[] = [];
      for (const hf of hfs) {
        const lease = await hf.rwlock('rw').read.tryAcquire();
        assert.ok(lease, 'a reader is granted while only readers hold it');
        readers.push(lease);
      }
      const again = await hfs[0]?.rwlock('rw').read.acquire();
      assert.ok(again, 'a fourth reader, from a client that already reads');
      readers.push(again);
      const state = await hfs[1]?.inspect('rw');
      assert.equal(state?.kind, 'rwlock');
      assert.equal(state?.holders.length, 4);
      assert.deepEqual(
        state?.holders.map((h) => h.permits),
        [1, 1, 1, 1],
      );
      for (const lease of readers) assert.equal(await lease.release(), true);
      assert.equal(await hfs[2]?.inspect('rw'), null);
    });

    it('a writer excludes readers and other writers', async () => {
      const [a, b, c] = await clients(world(), 3);
      const reader = await a.rwlock('rw').read.tryAcquire();
      assert.ok(reader);
      assert.equal(await b.rwlock('rw').write.tryAcquire(), null, 'a writer got in beside a reader');
      await reader.release();
      const writer = await b.rwlock('rw').write.tryAcquire();
      assert.ok(writer, 'free once the reader left');
      assert.equal(await c.rwlock('rw').read.tryAcquire(), null, 'a reader got in beside the writer');
      assert.equal(await c.rwlock('rw').write.tryAcquire(), null, 'a second writer');
      assert.equal(await b.rwlock('rw').read.tryAcquire(), null, 'the writer’s own client read beside it');
      assert.equal((await c.inspect('rw'))?.holders.length, 1);
      await writer.release();
      const after = await c.rwlock('rw').read.tryAcquire();
      assert.ok(after, 'readable once the writer left');
      await after.release();
    });

    it('is writer-preferring: readers that come after a waiting writer queue behind it', async () => {
      const [a, b, c, d] = await clients(world(), 4);
      const reader = await a.rwlock('rw').read.tryAcquire();
      assert.ok(reader);
      const writing = b.rwlock('rw').write.acquire();
      await queued(a, 'rw', 1);
      assert.equal(await c.rwlock('rw').read.tryAcquire(), null, 'a new reader overtook the waiting writer');
      const reading = c.rwlock('rw').read.acquire();
      await queued(a, 'rw', 2);
      assert.equal(await settled(reading), false, 'a new reader was granted while a writer waits');
      await reader.release();
      const writer = await withTimeout(writing, EVENT, 'the writer');
      assert.equal(await settled(reading), false, 'the queued reader got in beside the writer');
      assert.equal(await d.rwlock('rw').read.tryAcquire(), null);
      await writer.release();
      const late = await withTimeout(reading, EVENT, 'the reader queued behind the writer');
      assert.ok(late.fence > writer.fence, 'granted after the writer');
      const beside = await d.rwlock('rw').read.tryAcquire();
      assert.ok(beside, 'readers share again once the writer left');
      await late.release();
      await beside.release();
    });

    it('hands the lock from the last reader to the waiting writer, without time passing', async () => {
      const w = world();
      const [a, b, c] = await clients(w, 3);
      // Its safety timer (a third of waiterTtl) cannot fire within EVENT on a real clock either.
      const writerClient = await w.connect({ waiterTtl: 60_000 });
      const one = await a.rwlock('rw', { ttl: 60_000 }).read.tryAcquire();
      const two = await b.rwlock('rw', { ttl: 60_000 }).read.tryAcquire();
      assert.ok(one && two);
      const writing = writerClient.rwlock('rw').write.acquire();
      await queued(c, 'rw', 1);
      await one.release();
      assert.equal(await settled(writing), false, 'the writer got in while a reader still held');
      assert.equal((await c.inspect('rw'))?.waiters.length, 1);
      await two.release();
      const writer = await withTimeout(writing, EVENT, 'the hand-off from the last reader');
      assert.equal(writer.valid, true);
      assert.deepEqual(await holderFences(c, 'rw'), [writer.fence]);
      assert.equal(await c.rwlock('rw').read.tryAcquire(), null, 'handed off, not merely freed');
      await writer.release();
    });

    it('a reader that stops renewing no longer blocks the writer once its TTL ran out', async () => {
      const w = world();
      const [a, b, c] = await clients(w, 3);
      const expiring = await a.rwlock('rw', { ttl: SHORT_TTL, autoExtend: false }).read.tryAcquire();
      const crashed = await b.rwlock('rw', { ttl: SHORT_TTL }).read.tryAcquire();
      assert.ok(expiring && crashed);
      crashed.detach(); // as if its process died: nobody renews or releases it
      const writing = c.rwlock('rw').write.acquire();
      await queued(c, 'rw', 1);
      await w.advance(PAST_SHORT_TTL);
      const writer = await withTimeout(writing, EVENT, 'the writer after the readers expired');
      assert.equal(expiring.valid, false);
      assert.ok(writer.fence > expiring.fence && writer.fence > crashed.fence);
      assert.deepEqual(await holderFences(a, 'rw'), [writer.fence]);
      await writer.release();
    });

    it('gives every grant, read or write, a larger fence than the ones before', async () => {
      const [a, b] = await clients(world(), 2);
      const fences: bigint[] = [];
      const r1 = await a.rwlock('rw').read.tryAcquire();
      const r2 = await b.rwlock('rw').read.tryAcquire();
      assert.ok(r1 && r2);
      fences.push(r1.fence, r2.fence);
      const writing = a.rwlock('rw').write.acquire();
      await queued(b, 'rw', 1);
      await r1.release();
      await r2.release();
      const writer = await withTimeout(writing, EVENT, 'the writer');
      fences.push(writer.fence);
      const reading = b.rwlock('rw').read.acquire();
      await queued(b, 'rw', 1);
      await writer.release();
      const r3 = await withTimeout(reading, EVENT, 'the reader after the writer');
      fences.push(r3.fence);
      await r3.release();
      for (const [i, fence] of fences.entries()) {
        assert.equal(typeof fence, 'bigint');
        if (i > 0) assert.ok(fence > (fences[i - 1] ?? fence), `fences not increasing: ${fences.join(', ')}`);
      }
    });

    it('reports its events with kind "rwlock"; a writer holds more permits than a reader', async () => {
      const [a, b] = await clients(world(), 2);
      const events = await record(b, 'rw');
      const reader = await a.rwlock('rw', { owner: 'reporter' }).read.tryAcquire();
      assert.ok(reader);
      const read = await events.next('acquired');
      assert.equal(read.kind, 'rwlock');
      assert.equal(read.fence, reader.fence);
      assert.equal(read.permits, 1);
      assert.equal(read.owner, 'reporter');
      const writing = b.rwlock('rw').write.acquire({ owner: { role: 'writer' } });
      const waiting = await events.next('waiting');
      assert.equal(waiting.kind, 'rwlock');
      assert.deepEqual(waiting.owner, { role: 'writer' });
      await reader.release();
      assert.equal((await events.next('released')).kind, 'rwlock');
      const handoff = await events.next('handoff');
      const writer = await withTimeout(writing, EVENT, 'the writer');
      assert.equal(handoff.kind, 'rwlock');
      assert.equal(handoff.fence, writer.fence);
      assert.ok(handoff.permits > 1, `a writer holds ${handoff.permits} permit(s)`);
      assert.equal(handoff.permits, writer.permits);
      await writer.release();
      await events.close();
    });
  });
}

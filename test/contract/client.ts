/**
 * Client contract (DESIGN.md semantic 9 and the restoring-state tools): inspect, list and
 * forceRelease; close() releases leases, abandons waiters and leaves nothing behind; a closed
 * client refuses every call with ClosedError.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClosedError, LockTimeoutError } from '../../src/index.js';
import { withTimeout } from '../helpers/wait.js';
import type { WorldFactory } from '../helpers/world.js';
import { clients, EVENT, PAST_SHORT_TTL, queued, SHORT_TTL, semaphoreIfHeld, useWorld } from './support.js';

export function clientContract(factory: WorldFactory): void {
  describe('client', () => {
    const world = useWorld(factory);

    it('inspect shows kind, limit, holders and waiters, or null for a free name', async () => {
      const [a, b] = await clients(world(), 2);
      assert.equal(await a.inspect('m'), null);
      const lease = await a.mutex('m', { ttl: 5000 }).tryAcquire();
      assert.ok(lease);
      const waiting = b.mutex('m').acquire({ owner: { host: 'b', pid: 2 } });
      await queued(a, 'm', 1);
      const state = await b.inspect('m');
      assert.ok(state);
      assert.equal(state.name, 'm');
      assert.equal(state.kind, 'mutex');
      assert.equal(state.limit, 1);
      assert.equal(state.holders.length, 1);
      const [holder] = state.holders;
      assert.ok(holder);
      assert.equal(holder.fence, lease.fence);
      assert.equal(holder.permits, 1);
      assert.ok(holder.expiresIn > 0 && holder.expiresIn <= 5000, `expiresIn ${holder.expiresIn}`);
      assert.equal(holder.owner, null, 'owner is null when none was given');
      assert.deepEqual(
        state.waiters.map((w) => [w.permits, w.owner]),
        [[1, { host: 'b', pid: 2 }]],
        'owner is the parsed JSON value the waiter attached',
      );
      await lease.release();
      await (await withTimeout(waiting, EVENT, 'the waiter')).release();
      assert.equal(await a.inspect('m'), null, 'a free name is forgotten');
    });

    it('list returns the held or awaited names matching a glob', async () => {
      const [a, b] = await clients(world(), 2);
      const leases = await Promise.all(['job:1', 'job:2', 'jobs', 'other:1'].map((n) => a.mutex(n).tryAcquire()));
      assert.deepEqual((await b.list('job:*')).sort(), ['job:1', 'job:2']);
      assert.deepEqual((await b.list('job?1')).sort(), ['job:1']);
      assert.deepEqual((await b.list('*')).sort(), ['job:1', 'job:2', 'jobs', 'other:1']);
      assert.deepEqual(await b.list('nothing*'), []);
      await leases[0]?.release();
      assert.deepEqual((await b.list('job:*')).sort(), ['job:2']);
      for (const lease of leases.slice(1)) await lease?.release();
      assert.deepEqual(await b.list('*'), []);
    });

    it('forceRelease frees a name held by another client and returns how many holders it removed', async () => {
      const [a, b] = await clients(world(), 2);
      assert.equal(await b.forceRelease('m'), 0);
      const lease = await a.mutex('m').tryAcquire();
      assert.ok(lease);
      assert.equal(await b.forceRelease('m'), 1);
      const taken = await b.mutex('m').tryAcquire();
      assert.ok(taken, 'free after forceRelease');
      assert.ok(taken.fence > lease.fence);
      assert.equal(await lease.release(), false, 'the forced-out lease frees nothing');
      assert.equal(await a.mutex('m').tryAcquire(), null);
      await taken.release();
    });

    it('close() releases the client’s leases and rejects its waiters', async () => {
      const [a, b] = await clients(world(), 2);
      const lock = await a.mutex('m').tryAcquire();
      const semaphore = semaphoreIfHeld(a, 's', 1);
      const permit = semaphore ? await semaphore.tryAcquire() : null;
      const other = await b.mutex('busy').tryAcquire();
      assert.ok(lock && other && (permit || !semaphore));
      const outcome = assert.rejects(a.mutex('busy').acquire(), ClosedError);
      await queued(b, 'busy', 1);
      await a.close();
      await withTimeout(outcome, EVENT, 'the waiter to be rejected');
      assert.equal(lock.signal.aborted, true);
      assert.equal(lock.valid, false);
      assert.equal((await b.inspect('busy'))?.waiters.length, 0, 'the closed client left the queue');
      const m = await b.mutex('m').tryAcquire();
      const s = semaphore ? await b.semaphore('s', { permits: 1 }).tryAcquire() : null;
      assert.ok(m && (s || !semaphore), 'the closed client’s leases were released');
      for (const lease of [m, s, other]) await lease?.release();
    });

    it('rejects every call with ClosedError after close()', async () => {
      const [a] = await clients(world(), 1);
      const mutex = a.mutex('m');
      const semaphore = semaphoreIfHeld(a, 's', 2);
      await a.close();
      let ran = false;
      const calls: [string, () => Promise<unknown>][] = [
        ['mutex.tryAcquire', () => mutex.tryAcquire()],
        ['mutex.acquire', () => mutex.acquire({ wait: 100 })],
        [
          'mutex.withLock',
          () =>
            mutex.withLock(() => {
              ran = true;
            }),
        ],
        ...(semaphore
          ? [
              ['semaphore.tryAcquire', () => semaphore.tryAcquire()] as [string, () => Promise<unknown>],
              ['semaphore.acquire', () => semaphore.acquire({ permits: 2 })] as [string, () => Promise<unknown>],
            ]
          : []),
        ['a new mutex', async () => a.mutex('new').tryAcquire()],
        ['inspect', () => a.inspect('m')],
        ['list', () => a.list('*')],
        ['forceRelease', () => a.forceRelease('m')],
      ];
      for (const [what, call] of calls) await assert.rejects(call(), ClosedError, what);
      assert.equal(ran, false, 'withLock ran its function on a closed client');
      await a.close(); // a second close is harmless
    });

    it('leaves nothing behind once every lease ended and every waiter left', async () => {
      const w = world();
      const [a, b] = await clients(w, 2);
      // a semaphore where the backend holds one, else a second mutex: the same queue and lease
      const lock = await a.mutex('m').tryAcquire();
      const semaphore = semaphoreIfHeld(a, 's', 2);
      const permit = semaphore ? await semaphore.tryAcquire({ permits: 2 }) : await a.mutex('s').tryAcquire();
      assert.ok(lock && permit);
      // The wait outlasts the time it takes to see the waiter queued on a loaded machine (an
      // etcd run beside another suite took more than 100 ms), or it could time out unseen.
      const timedOut = assert.rejects(b.mutex('m').acquire({ wait: SHORT_TTL }), LockTimeoutError);
      const controller = new AbortController();
      const waitOptions = { signal: controller.signal };
      const abortedWait = assert.rejects(
        semaphore ? b.semaphore('s', { permits: 2 }).acquire(waitOptions) : b.mutex('s').acquire(waitOptions),
      );
      await queued(a, 'm', 1);
      await queued(a, 's', 1);
      await w.advance(PAST_SHORT_TTL);
      controller.abort(new Error('stop'));
      await withTimeout(Promise.all([timedOut, abortedWait]), EVENT, 'the timeout and the abort');
      await lock.release();
      await permit.release();
      await queued(a, 'm', 0);
      await queued(a, 's', 0);
      assert.deepEqual(await b.list('*'), []);
      assert.equal(await b.inspect('m'), null);
      assert.equal(await b.inspect('s'), null);
    });
  });
}

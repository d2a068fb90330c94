/**
 * Watch contract (seed 000: the task manager is notified when a lock changes): every change is
 * an event with name, kind, fence, permits, owner and the backend's time; globs filter names;
 * an expiry is reported even when nobody touches the name; a stream ends on abort and close().
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LockEvent, UnsupportedError } from '../../src/index.js';
import { withTimeout } from '../helpers/wait.js';
import type { World, WorldFactory } from '../helpers/world.js';
import { record, summary } from './events.js';
import { clients, EVENT, PAST_SHORT_TTL, SHORT_TTL, semaphoreIfHeld, useWorld } from './support.js';

/** An event's `at` is epoch ms on the backend's clock: compared with ours on a real clock only. */
function assertTime(world: World, event: LockEvent): void {
  assert.equal(typeof event.at, 'number');
  if (!world.fake) assert.ok(Math.abs(event.at - Date.now()) < 2000, `${event.type} at ${event.at}`);
}

export function watchContract(factory: WorldFactory): void {
  describe('watch', () => {
    const world = useWorld(factory);

    it('reports acquired, waiting, released, handoff, left and lost with their details', async () => {
      const w = world();
      const [a, b, c, d] = await clients(w, 4);
      const events = await record(d, 'm');
      const lease = await a.mutex('m', { ttl: 5000, owner: { host: 'a', pid: 1 } }).tryAcquire();
      assert.ok(lease);
      const acquired = await events.next('acquired');
      assert.deepEqual(
        { ...acquired, at: 0, expiresIn: 0 },
        {
          type: 'acquired',
          name: 'm',
          kind: 'mutex',
          fence: lease.fence,
          permits: 1,
          owner: { host: 'a', pid: 1 },
          at: 0,
          expiresIn: 0,
        },
      );
      assert.ok(acquired.expiresIn !== null && acquired.expiresIn > 0 && acquired.expiresIn <= 5000);
      assertTime(w, acquired);
      const waiting = b.mutex('m').acquire({ owner: ['b', 2] });
      const joined = await events.next('waiting');
      assert.deepEqual([joined.fence, joined.permits, joined.owner, joined.expiresIn], [null, 1, ['b', 2], null]);
      await w.advance(100);
      await lease.release();
      const released = await events.next('released');
      assert.deepEqual([released.fence, released.owner], [lease.fence, { host: 'a', pid: 1 }]);
      if (w.fake) assert.equal(released.at - acquired.at, 100, 'at is the backend time of the change');
      else assert.ok(released.at >= acquired.at);
      const handoff = await events.next('handoff');
      const next = await withTimeout(waiting, EVENT, 'the hand-off');
      assert.deepEqual([handoff.fence, handoff.owner], [next.fence, ['b', 2]]);
      assert.ok(handoff.expiresIn !== null && handoff.expiresIn > 0);
      const timingOut = assert.rejects(c.mutex('m').acquire({ wait: 100, owner: 'c' }));
      assert.equal((await events.next('waiting')).owner, 'c');
      await w.advance(150);
      await withTimeout(timingOut, EVENT, 'the timeout');
      const left = await events.next('left');
      assert.deepEqual([left.fence, left.owner, left.permits], [null, 'c', 1]);
      assert.equal(await a.forceRelease('m'), 1);
      const lost = await events.next('lost');
      assert.deepEqual([lost.fence, lost.owner], [next.fence, ['b', 2]]);
      const types = events.all.map((e) => e.type);
      assert.deepEqual(types, ['acquired', 'waiting', 'released', 'handoff', 'waiting', 'left', 'lost']);
      assert.ok(
        events.all.every((e) => e.name === 'm' && e.kind === 'mutex'),
        summary(events.all),
      );
      await events.close();
    });

    it('reports the kind and permits of semaphores; owner is null when none was given', async (t) => {
      const [a, b] = await clients(world(), 2);
      const semaphore = semaphoreIfHeld(a, 's', 3);
      if (semaphore === null) {
        t.skip('this backend holds no semaphores');
        return;
      }
      const events = await record(b, 's');
      const lease = await semaphore.tryAcquire({ permits: 2 });
      assert.ok(lease);
      const acquired = await events.next('acquired');
      assert.deepEqual([acquired.kind, acquired.permits, acquired.owner], ['semaphore', 2, null]);
      await lease.release();
      assert.equal((await events.next('released')).permits, 2);
      await events.close();
    });

    it('delivers only the names that match its glob', async () => {
      const [a, b] = await clients(world(), 2);
      const events = await record(b, 'agent:*');
      const other = await a.mutex('other:1').tryAcquire();
      const bare = await a.mutex('agent').tryAcquire();
      const agent = await (semaphoreIfHeld(a, 'agent:7', 3) ?? a.mutex('agent:7')).tryAcquire();
      assert.ok(other && bare && agent);
      assert.equal((await events.next('acquired')).name, 'agent:7');
      await other.release();
      await bare.release();
      await agent.release();
      await events.next('released', 'agent:7');
      assert.deepEqual(
        events.all.map((e) => e.name),
        ['agent:7', 'agent:7'],
      );
      await events.close();
    });

    it('reports `expired` when a holder stops renewing and nobody touches the name', async () => {
      const w = world();
      const [a, b] = await clients(w, 2);
      const events = await record(b, 'm');
      const lease = await a.mutex('m', { ttl: SHORT_TTL, owner: 'crashed' }).tryAcquire();
      assert.ok(lease);
      lease.detach(); // as if its process died: no renewal, no release
      await events.next('acquired');
      await w.advance(PAST_SHORT_TTL);
      const expired = await events.next('expired');
      assert.deepEqual([expired.name, expired.fence, expired.owner], ['m', lease.fence, 'crashed']);
      assert.equal(await b.inspect('m'), null);
      await events.close();
    });

    it('reports the expiry of a holder granted before the watch started', async () => {
      const w = world();
      const [a, b] = await clients(w, 2);
      const lease = await a.mutex('m', { ttl: SHORT_TTL }).tryAcquire();
      assert.ok(lease);
      lease.detach();
      const events = await record(b, 'm');
      await w.advance(PAST_SHORT_TTL);
      assert.equal((await events.next('expired')).fence, lease.fence);
      await events.close();
    });

    it('reports rate-limiter refusals and waiters', async () => {
      const w = world();
      const [a, b] = await clients(w, 2);
      const options = { limit: 1, window: 300 };
      if (a.capabilities.rateAlgorithms.length === 0) {
        // A backend without rate limiting (etcd) refuses the limiter at once, as it says.
        assert.throws(() => a.rateLimiter('api', options), UnsupportedError);
        return;
      }
      const events = await record(b, 'api');
      assert.equal((await a.rateLimiter('api', options).tryTake()).allowed, true);
      assert.equal((await a.rateLimiter('api', options).tryTake()).allowed, false);
      const refused = await events.next('rate-limited');
      assert.deepEqual(
        [refused.kind, refused.fence, refused.permits, refused.owner, refused.expiresIn],
        ['rate-limiter', null, 1, null, null],
      );
      assertTime(w, refused);
      const taking = a.rateLimiter('api', options).take(1, { wait: 5000 });
      await events.next('rate-limited');
      assert.equal((await events.next('waiting')).kind, 'rate-limiter');
      await w.advance(301);
      await withTimeout(taking, EVENT, 'the take');
      const types = events.all.map((e) => e.type);
      assert.deepEqual(types.slice(0, 3), ['rate-limited', 'rate-limited', 'waiting']);
      // A waiter that asked a little early is refused again; an admission is never an event.
      assert.ok(
        types.every((type) => type === 'rate-limited' || type === 'waiting'),
        types.join(', '),
      );
      await events.close();
    });

    it('ends the stream when its signal aborts, when closed, and when the client closes', async () => {
      const w = world();
      const [a, b] = await clients(w, 2);
      const controller = new AbortController();
      const aborting = await record(b, 'm', controller.signal);
      const closing = await record(b, 'm');
      const closedWithClient = await record(b, 'm');
      const lease = await a.mutex('m').tryAcquire();
      assert.ok(lease);
      for (const events of [aborting, closing, closedWithClient]) await events.next('acquired');
      controller.abort();
      await withTimeout(aborting.ended, EVENT, 'the stream to end on abort');
      await closing.close();
      await withTimeout(closing.ended, EVENT, 'the stream to end on close()');
      await b.close();
      await withTimeout(closedWithClient.ended, EVENT, 'the stream to end with its client');
      await lease.release();
      assert.throws(() => b.watch('m'), { code: 'CLOSED' });
      assert.deepEqual(
        [aborting, closing, closedWithClient].map((events) => events.all.length),
        [1, 1, 1],
      );
    });

    it('lets several watches of one client see the same events', async () => {
      const [a, b] = await clients(world(), 2);
      const exact = await record(b, 'job:1');
      const glob = await record(b, 'job:*');
      const all = await record(b, '*');
      const lease = await a.mutex('job:1').tryAcquire();
      assert.ok(lease);
      for (const events of [exact, glob, all]) assert.equal((await events.next('acquired')).fence, lease.fence);
      await exact.close();
      await lease.release();
      for (const events of [glob, all]) await events.next('released');
      assert.equal(exact.all.length, 1, 'a closed watch still received events');
      await glob.close();
      await all.close();
    });
  });
}

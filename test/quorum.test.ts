/**
 * The contract suites of the lock kinds a quorum declares, on 5 independent redis-servers; then
 * what only a quorum shows: the kinds it refuses and why, its TTL ceiling, and its key layout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { connect, UnsupportedError, ValidationError } from '../src/index.js';
import { electionContract } from './contract/election.js';
import { record } from './contract/events.js';
import { leaseContract } from './contract/lease.js';
import { mutexContract } from './contract/mutex.js';
import { rwlockContract } from './contract/rwlock.js';
import { newPrefix, quorumWorld, useRedisNodes } from './helpers/quorum.js';

const nodes = useRedisNodes(5);
const world = quorumWorld(nodes);

mutexContract(world);
leaseContract(world);
rwlockContract(world);
electionContract(world);

describe('quorum specifics', () => {
  const open = () => connect({ redlock: nodes().map((n) => n.url), maxTtl: 20_000 }, { prefix: newPrefix() });

  it('refuses semaphores and rate limiters with UnsupportedError saying why', async () => {
    const hf = await open();
    try {
      assert.deepEqual(hf.capabilities.locks, ['mutex', 'rwlock', 'election']);
      assert.equal(hf.capabilities.wakeups, 'wake');
      assert.throws(
        () => hf.semaphore('s', { permits: 2 }),
        (error: unknown) => error instanceof UnsupportedError && /cannot keep a count of permits/.test(error.message),
      );
      assert.throws(
        () => hf.rateLimiter('r', { limit: 5, window: 1000 }),
        (error: unknown) => error instanceof UnsupportedError && /cannot bound a rate/.test(error.message),
      );
    } finally {
      await hf.close();
    }
  });

  it('reports each change once, with the quorum fence, though every node publishes it', async () => {
    const prefix = newPrefix();
    const [a, b, c] = [
      await connect({ redlock: nodes().map((n) => n.url) }, { prefix }),
      await connect({ redlock: nodes().map((n) => n.url) }, { prefix }),
      await connect({ redlock: nodes().map((n) => n.url) }, { prefix }),
    ];
    try {
      const events = await record(c, 'm');
      const lease = await a.mutex('m', { owner: 'a' }).tryAcquire();
      assert.ok(lease);
      assert.equal((await events.next('acquired')).fence, lease.fence);
      const waiting = b.mutex('m').acquire({ owner: 'b' });
      await events.next('waiting');
      await lease.release();
      assert.equal((await events.next('released')).fence, lease.fence);
      const next = await waiting;
      assert.equal((await events.next('handoff')).fence, next.fence);
      assert.equal(await a.forceRelease('m'), 1);
      assert.equal((await events.next('lost')).fence, next.fence);
      assert.deepEqual(
        events.all.map((e) => e.type),
        ['acquired', 'waiting', 'released', 'handoff', 'lost'],
      );
      await events.close();
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('refuses a TTL above maxTtl, the time a restarted node stays out', async () => {
    const hf = await open();
    try {
      await assert.rejects(hf.mutex('m', { ttl: 30_000 }).tryAcquire(), ValidationError);
    } finally {
      await hf.close();
    }
  });

  it('writes the fence a lease carries to every node (P{N}:qf, and the lock’s own data hash)', async () => {
    const prefix = newPrefix();
    const hf = await connect({ redlock: nodes().map((n) => n.url) }, { prefix });
    const admins = nodes().map((n) => new Redis(n.url));
    try {
      const lease = await hf.mutex('report:1').tryAcquire();
      assert.ok(lease);
      for (const admin of admins) {
        assert.equal(await admin.get(`${prefix}{report:1}:qf`), lease.fence.toString());
        assert.equal(await admin.hget(`${prefix}{report:1}:d`, 'fence'), lease.fence.toString());
      }
      assert.deepEqual(
        (await hf.inspect('report:1'))?.holders.map((h) => h.fence),
        [lease.fence],
      );
      await lease.release();
    } finally {
      await hf.close();
      for (const admin of admins) await admin.quit();
    }
  });
});

/**
 * The contract suites of the lock kinds a quorum declares, on 5 independent redis-servers; then
 * what only a quorum shows: the kinds it refuses and why, its TTL ceiling, and its key layout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { connect, UnsupportedError, ValidationError } from '../src/index.js';
import { leaseContract } from './contract/lease.js';
import { mutexContract } from './contract/mutex.js';
import { newPrefix, quorumWorld, useRedisNodes } from './helpers/quorum.js';

const nodes = useRedisNodes(5);
const world = quorumWorld(nodes);

mutexContract(world);
leaseContract(world);

describe('quorum specifics', () => {
  const open = () => connect({ redlock: nodes().map((n) => n.url), maxTtl: 20_000 }, { prefix: newPrefix() });

  it('refuses semaphores, rate limiters and watches with UnsupportedError saying why', async () => {
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

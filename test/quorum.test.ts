/**
 * The contract suites of what a quorum declares (mutex, rwlock, election, leases, the client,
 * watch), on 3 independent redis-servers (the backend conformance suite runs on 3 more in
 * test/backend-conformance.test.ts; faults on 5 in quorum-faults.slow.test.ts); then what only a
 * quorum shows: the kinds it refuses and why, its TTL ceiling, and its key layout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { connect, UnsupportedError, ValidationError } from '../src/index.js';
import { record } from './contract/events.js';
import { primitiveContracts } from './contract/primitives.js';
import { EVENT } from './contract/support.js';
import { newPrefix, quorumWorld, useRedisNodes } from './helpers/quorum.js';
import { waitFor } from './helpers/wait.js';

const nodes = useRedisNodes(3);
const world = quorumWorld(nodes);

primitiveContracts(world, ['semaphore', 'rateLimiter']);

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

  it('nodes in step give a grant one number: an acquire is one script run per node, no write-back', async () => {
    const prefix = newPrefix();
    const hf = await connect({ redlock: nodes().map((n) => n.url) }, { prefix });
    const admins = nodes().map((n) => new Redis(n.url));
    const scriptRuns = async (admin: Redis): Promise<number> => {
      const stats = await admin.info('commandstats');
      const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      return calls('evalsha') + calls('eval');
    };
    try {
      // (each node has the script cached after a first use: no NOSCRIPT retry is counted)
      await (await hf.mutex('warm-up').tryAcquire())?.release();
      // a new name: every node starts from the seed the client sent, so they agree at once
      for (const admin of admins) await admin.config('RESETSTAT');
      const first = await hf.mutex('m', { autoExtend: false }).tryAcquire();
      assert.ok(first);
      assert.deepEqual(await Promise.all(admins.map(scriptRuns)), [1, 1, 1], 'a new name: the acquire alone');
      await first.release();
      for (const admin of admins) await admin.config('RESETSTAT');
      const second = await hf.mutex('m', { autoExtend: false }).tryAcquire();
      assert.ok(second);
      assert.equal(second.fence, first.fence + 1n, 'the next number after the one every node remembers');
      assert.deepEqual(await Promise.all(admins.map(scriptRuns)), [1, 1, 1], 'the acquire alone, no write-back');
      for (const admin of admins) {
        assert.equal(await admin.get(`${prefix}{m}:qf`), second.fence.toString());
        assert.equal(await admin.hget(`${prefix}{m}:d`, 'fence'), second.fence.toString());
      }
      await second.release();
    } finally {
      await hf.close();
      for (const admin of admins) await admin.quit();
    }
  });

  it('nodes out of step: the largest number wins and is written back; a lagging node is brought up to it', async () => {
    const prefix = newPrefix();
    const hf = await connect({ redlock: nodes().map((n) => n.url) }, { prefix });
    const admins = nodes().map((n) => new Redis(n.url));
    const memory = `${prefix}{m}:qf`;
    const memories = () => Promise.all(admins.map(async (admin) => BigInt((await admin.get(memory)) ?? '0')));
    try {
      const first = await hf.mutex('m', { autoExtend: false }).tryAcquire();
      assert.ok(first);
      await first.release();
      // node 1 knows a larger fence (it alone saw a grant the others missed): alone it cannot
      // make a majority agree, so its number must win and reach the others before the lease
      const ahead = first.fence + 1000n;
      await admins[1]?.set(memory, ahead.toString());
      const second = await hf.mutex('m', { autoExtend: false }).tryAcquire();
      assert.ok(second);
      assert.equal(second.fence, ahead + 1n);
      assert.deepEqual(await memories(), [second.fence, second.fence, second.fence], 'written back everywhere');
      await second.release();
      // node 2 lags behind (it missed grants): nodes 0 and 1 agree, the lease is handed out
      // at once, and node 2 learns the fence in the background
      await admins[2]?.set(memory, first.fence.toString());
      const third = await hf.mutex('m', { autoExtend: false }).tryAcquire();
      assert.ok(third);
      assert.equal(third.fence, second.fence + 1n);
      await waitFor(async () => (await memories()).every((m) => m === third.fence), {
        timeout: EVENT,
        what: 'node 2 brought up to the fence',
      });
      await third.release();
    } finally {
      await hf.close();
      for (const admin of admins) await admin.quit();
    }
  });

  it('a hand-off is numbered above what each node remembers, even far ahead of its clock', async () => {
    const prefix = newPrefix();
    const [a, b] = [
      await connect({ redlock: nodes().map((n) => n.url) }, { prefix }),
      await connect({ redlock: nodes().map((n) => n.url) }, { prefix }),
    ];
    const admins = nodes().map((n) => new Redis(n.url));
    try {
      const held = await a.mutex('h').tryAcquire();
      assert.ok(held);
      // every node learns of a fence 1000 s ahead of its clock (as a write-back of a grant from
      // a client whose clock ran ahead would tell it), while a waiter queues
      const ahead = held.fence + 1_000_000_000n;
      for (const admin of admins) await admin.set(`${prefix}{h}:qf`, ahead.toString());
      const waiting = b.mutex('h').acquire({ wait: EVENT });
      await waitFor(async () => ((await a.inspect('h'))?.waiters.length ?? 0) === 1, {
        timeout: EVENT,
        what: 'the waiter to queue',
      });
      // the release drains to the waiter on each node: its grant must be numbered above the
      // memory, not keep a fence from the node's clock
      await held.release();
      const next = await waiting;
      assert.ok(next.fence > ahead, `${next.fence} must exceed ${ahead}`);
      await next.release();
    } finally {
      await Promise.all([a.close(), b.close()]);
      for (const admin of admins) await admin.quit();
    }
  });
});

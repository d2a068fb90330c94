/**
 * The quorum backend under faults, on 5 redis-servers this file starts: a majority killed, a
 * node restarted empty while a lease is held (with and without the restart guard), one node's
 * clock far ahead plus another node's data lost (fences), a TCP proxy that delays, drops and
 * resets one node, and refusals at connect().
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { BackendContext } from '../src/backend.js';
import { createQuorumBackend } from '../src/backends/quorum/index.js';
import { connect, type Holdfast, QuorumError, ValidationError } from '../src/index.js';
import { EVENT } from './contract/support.js';
import { newPrefix, useRedisNodes } from './helpers/quorum.js';
import { startProxy, type TcpProxy } from './helpers/tcp-proxy.js';
import { waitFor, withTimeout } from './helpers/wait.js';

const nodes = useRedisNodes(5);
const urls = (): string[] => nodes().map((node) => node.url);

/** What each test opened, closed after it; killed servers come back (empty) for the next. */
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
  await Promise.all(nodes().map((node) => node.restartIfDown()));
});

async function client(
  target: string[],
  options: { prefix: string; extra?: object; commandTimeout?: number },
): Promise<Holdfast> {
  const hf = await connect(
    { redlock: target, ...options.extra },
    { prefix: options.prefix, ...(options.commandTimeout ? { commandTimeout: options.commandTimeout } : {}) },
  );
  cleanup.push(() => hf.close());
  return hf;
}

async function proxy(index: number): Promise<TcpProxy> {
  const made = await startProxy((nodes()[index] as { port: number }).port);
  cleanup.push(() => made.close());
  return made;
}

function admin(index: number): Redis {
  const redis = new Redis((nodes()[index] as { url: string }).url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {}); // its node may be killed by the test
  cleanup.push(() => redis.quit());
  return redis;
}

const quorumError = (operation: string, outcome: string, count: number) => (error: unknown) => {
  assert.ok(error instanceof QuorumError, `expected a QuorumError, got ${String(error)}`);
  assert.equal(error.operation, operation);
  assert.equal(error.outcomes.filter((o) => o.outcome === outcome).length, count, error.message);
  return true;
};

describe('quorum under faults', () => {
  it('with a majority killed, acquire fails at once with each node’s outcome, and grants nothing', async () => {
    const prefix = newPrefix();
    const hf = await client(urls(), { prefix });
    await Promise.all([0, 1, 2].map((i) => nodes()[i]?.kill()));
    await assert.rejects(
      withTimeout(hf.mutex('m').tryAcquire(), EVENT, 'tryAcquire'),
      quorumError('acquire', 'unreachable', 3),
    );
    // fails within its wait instead of waiting it out
    await assert.rejects(
      withTimeout(hf.mutex('m').acquire({ wait: 60_000 }), EVENT, 'acquire'),
      quorumError('acquire', 'unreachable', 3),
    );
    // the two grants the live nodes made went back at once
    for (const i of [3, 4]) {
      const redis = admin(i);
      await waitFor(async () => (await redis.zcard(`${prefix}{m}:h`)) === 0, {
        timeout: EVENT,
        what: `node ${i} to hold nothing`,
      });
    }
  });

  for (const guard of [true, false]) {
    it(`a node restarted empty while a lease is held ${guard ? 'stays out (the guard holds)' : 'counts at once without the guard: two holders'}`, async () => {
      const prefix = newPrefix();
      const extra = { maxTtl: 8000, restartGuard: guard };
      // The holder reaches nodes 3 and 4 through proxies, which then fail: it holds on 0, 1, 2.
      const [p3, p4] = await Promise.all([proxy(3), proxy(4)]);
      const holder = await client([...urls().slice(0, 3), p3.url, p4.url], { prefix, extra });
      const context: BackendContext = { clientId: 'other', prefix, onWake: () => {}, onResync: () => {} };
      const other = await createQuorumBackend({ redlock: urls(), ...extra }, context);
      cleanup.push(() => other.close());
      p3.setMode('reset');
      p4.setMode('reset');
      const lease = await holder.mutex('m', { ttl: 8000 }).tryAcquire();
      assert.ok(lease, 'granted by nodes 0, 1 and 2');
      await nodes()[2]?.restart();
      const expected = guard ? 'recovering' : 'counting';
      await waitFor(async () => other.status()[2]?.state === expected, { timeout: EVENT, what: `node 2 ${expected}` });
      const request = {
        name: 'm',
        kind: 'mutex',
        token: 'other-token',
        permits: 1,
        limit: 1,
        ttl: 8000,
        enqueue: false,
        waiterTtl: 6000,
        claimTtl: 6000,
        owner: '',
      } as const;
      const result = await other.acquire(request);
      const twoHolders = result.granted && lease.valid;
      if (guard) assert.equal(result.granted, false, 'the restarted node must not count while the lease may be held');
      else assert.ok(twoHolders, 'without the guard, nodes 2, 3 and 4 grant a lock that is still held on 0 and 1');
    });
  }

  it('fences keep rising with one node’s clock an hour ahead and another node restarted empty', async () => {
    const prefix = newPrefix();
    const hf = await client(urls(), { prefix });
    const ahead = BigInt(Date.now() + 3_600_000) * 1000n;
    await admin(0).hset(`${prefix}{m}:d`, 'fence', ahead.toString());
    const first = await hf.mutex('m').tryAcquire();
    assert.ok(first && first.fence > ahead, 'the skewed node’s fence is the largest');
    await first.release();
    await nodes()[0]?.kill(); // the node that knew the large fence is gone
    await nodes()[1]?.restart(); // and another lost everything
    const second = await hf.mutex('m').tryAcquire();
    assert.ok(second, 'nodes 2, 3 and 4 are a majority');
    assert.ok(second.fence > first.fence, `${second.fence} must exceed ${first.fence}`);
    await second.release();
  });

  it('survives one node delayed, dropping and resetting behind a TCP proxy', async () => {
    const prefix = newPrefix();
    const p4 = await proxy(4);
    const target = [...urls().slice(0, 4), p4.url];
    const [a, b] = [
      await client(target, { prefix, commandTimeout: 500 }),
      await client(target, { prefix, commandTimeout: 500 }),
    ];
    for (const mode of [{ delay: 100 }, 'drop', 'reset', 'pass'] as const) {
      p4.setMode(mode);
      const lease = await withTimeout(
        a.mutex('m', { ttl: 3000 }).acquire({ wait: 10_000 }),
        EVENT,
        `acquire (${JSON.stringify(mode)})`,
      );
      assert.equal(await b.mutex('m').tryAcquire(), null, `held exclusively (${JSON.stringify(mode)})`);
      assert.equal(await lease.release(), true);
    }
  });

  it('with a majority silent, renewal and acquire fail with distinct QuorumErrors', async () => {
    const prefix = newPrefix();
    const proxies = await Promise.all([2, 3, 4].map((i) => proxy(i)));
    const hf = await client([...urls().slice(0, 2), ...proxies.map((p) => p.url)], { prefix, commandTimeout: 500 });
    const lease = await hf.mutex('m', { ttl: 5000 }).tryAcquire();
    assert.ok(lease);
    for (const p of proxies) p.setMode('drop');
    await assert.rejects(lease.extend(), quorumError('extend', 'timed-out', 3));
    await assert.rejects(hf.mutex('n').tryAcquire(), quorumError('acquire', 'timed-out', 3));
  });

  it('refuses at connect() a node listed twice, two URLs of one server, an even count and a replica', async () => {
    const [u0, u1, u2, u3] = urls() as [string, string, string, string];
    await assert.rejects(connect({ redlock: [u0, u1, u1] }), ValidationError);
    await assert.rejects(connect({ redlock: [u0, u1, u2, u3] }), ValidationError);
    const twin = u0.replace('127.0.0.1', 'localhost');
    await assert.rejects(connect({ redlock: [u0, u1, twin] }), /same server/);
    const replica = admin(3);
    const port = (nodes()[2] as { port: number }).port;
    await replica.replicaof('127.0.0.1', port);
    cleanup.push(() => replica.replicaof('NO', 'ONE'));
    await assert.rejects(connect({ redlock: [u0, u1, u3] }), /not an independent master/);
  });
});

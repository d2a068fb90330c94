/**
 * The RESP protocol suite again, with the server in front of a Redis this file starts
 * (`holdfast server --backend redis://…`); then what only a shared backend shows: the state is
 * in Redis, where a direct Redis client of holdfast sees it, and two stateless servers front
 * one Redis, hand-offs crossing from one to the other.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from '../src/index.js';
import { cached } from '../src/recipes/index.js';
import { startServer } from '../src/server/index.js';
import { untilQueued } from './helpers/queue.js';
import { withTimeout } from './helpers/wait.js';
import { serverBackend } from './server/backend.js';
import { redisCli } from './server/process.js';
import { protocolSuite } from './server/protocol-suite.js';
import { serverUrl, useHoldfastServer } from './server/world.js';

const backend = serverBackend('redis');

protocolSuite(backend);

describe('server in front of Redis: the state is in Redis', () => {
  const server = useHoldfastServer(() => backend.options());

  it('a lock taken through the server is held in Redis, and one taken directly holds over the server', async () => {
    const port = server().port;
    const direct = await connect(backend.redisUrl());
    try {
      const [token, fence] = await redisCli(port, ['HOLDFAST.LOCK', 'state:job', '10000', 'OWNER', '{"via":"resp"}']);
      const state = await direct.inspect('state:job');
      assert.equal(state?.holders[0]?.fence, BigInt(fence ?? '0'), 'the direct client sees the holder');
      assert.deepEqual(state?.holders[0]?.owner, { via: 'resp' });
      assert.equal(await direct.mutex('state:job').tryAcquire(), null);
      const lease = await direct.mutex('state:direct', { ttl: 10_000 }).tryAcquire();
      assert.ok(lease);
      assert.deepEqual(await redisCli(port, ['HOLDFAST.LOCK', 'state:direct', '5000']), [''], 'nil: held in Redis');
      const waiting = redisCli(port, ['HOLDFAST.LOCK', 'state:direct', '5000', 'WAIT', '10000']);
      await untilQueued(direct, 'state:direct', 1, 'redis-cli to queue through the server');
      await lease.release();
      const [, handed] = await withTimeout(waiting, 10_000, 'the hand-off from the direct client');
      assert.ok(BigInt(handed ?? '0') > lease.fence);
      assert.deepEqual(await redisCli(port, ['HOLDFAST.UNLOCK', 'state:job', token ?? '']), ['1']);
      assert.equal(await direct.inspect('state:job'), null, 'released in Redis');
    } finally {
      await direct.close();
    }
  });

  it('keeps values in Redis, under the prefix: cached() through the server and directly computes once', async () => {
    const port = server().port;
    assert.deepEqual(await redisCli(port, ['HOLDFAST.VSET', 'v:seen', '{"n":1}', '60000']), ['OK']);
    const redisPort = new URL(backend.redisUrl()).port;
    assert.deepEqual(await redisCli(Number(redisPort), ['GET', 'holdfast:value:v:seen']), ['{"n":1}']);
    const viaServer = await connect(serverUrl(server()));
    const direct = await connect(backend.redisUrl());
    try {
      let computed = 0;
      const compute = async () => ({ n: ++computed });
      const first = await cached(viaServer, 'report', compute, { ttl: 60_000 });
      const second = await cached(direct, 'report', compute, { ttl: 60_000 });
      assert.deepEqual([first, second, computed], [{ n: 1 }, { n: 1 }, 1]);
    } finally {
      await Promise.all([viaServer.close(), direct.close()]);
    }
  });

  it('two servers front one Redis: a waiter on one is handed the lock released through the other', async () => {
    const other = await startServer({ port: 0, ...backend.options() });
    const a = await connect(serverUrl(server()));
    const b = await connect(serverUrl(other));
    try {
      const [token] = await redisCli(server().port, ['HOLDFAST.LOCK', 'two:job', '10000']);
      const waiting = redisCli(other.port, ['HOLDFAST.LOCK', 'two:job', '10000', 'WAIT', '10000']);
      await untilQueued(a, 'two:job', 1, 'redis-cli to queue on the other server');
      await redisCli(server().port, ['HOLDFAST.UNLOCK', 'two:job', token ?? '']);
      const [second] = await withTimeout(waiting, 10_000, 'the hand-off across servers');
      assert.deepEqual(await redisCli(other.port, ['HOLDFAST.UNLOCK', 'two:job', second ?? '']), ['1']);

      const lease = await a.mutex('two:m', { ttl: 10_000 }).tryAcquire();
      assert.ok(lease);
      assert.equal(await b.mutex('two:m').tryAcquire(), null, 'held for the other server too');
      const queued = b.mutex('two:m', { ttl: 10_000 }).acquire({ wait: 10_000 });
      await untilQueued(a, 'two:m', 1, 'the Node client of the other server to queue');
      await lease.release();
      const handed = await withTimeout(queued, 10_000, 'the push hand-off to a client of the other server');
      assert.ok(handed.fence > lease.fence);
      await handed.release();
    } finally {
      await Promise.all([a.close(), b.close()]);
      await other.close();
    }
  });
});

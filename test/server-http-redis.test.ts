/**
 * The HTTP API suite again, with the server in front of a Redis this file starts
 * (`holdfast server --backend redis://…`); then: a lock taken over HTTP is in Redis, where a
 * direct Redis client of holdfast sees it and its release wakes an HTTP long-poll.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from '../src/index.js';
import { untilQueued } from './helpers/queue.js';
import { withTimeout } from './helpers/wait.js';
import { serverBackend } from './server/backend.js';
import { HttpApiClient, lockPath } from './server/http-helpers.js';
import { httpSuite } from './server/http-suite.js';
import { useHoldfastServer } from './server/world.js';

const backend = serverBackend('redis');

httpSuite(backend);

describe('HTTP API in front of Redis: the state is in Redis', () => {
  const server = useHoldfastServer(() => ({ httpPort: 0, ...backend.options() }));

  it('an HTTP lock is held in Redis; a direct client’s release wakes an HTTP long-poll', async () => {
    const api = HttpApiClient.of(server());
    const direct = await connect(backend.redisUrl());
    try {
      const grant = await api.post(lockPath('http:job', 'acquire'), { ttl: 10_000, owner: { via: 'http' } });
      assert.equal(grant.status, 200);
      const state = await direct.inspect('http:job');
      assert.equal(state?.holders[0]?.fence, BigInt(grant.body.fence ?? '0'));
      assert.deepEqual(state?.holders[0]?.owner, { via: 'http' });
      assert.deepEqual((await api.post(lockPath('http:job', 'release'), { token: grant.body.token })).body, {
        released: true,
      });
      assert.equal(await direct.inspect('http:job'), null);

      const lease = await direct.mutex('http:direct', { ttl: 10_000 }).tryAcquire();
      assert.ok(lease);
      const waiting = api.post(lockPath('http:direct', 'acquire'), { ttl: 10_000, wait: 10_000 });
      await untilQueued(direct, 'http:direct', 1, 'the long-poll to queue in Redis');
      await lease.release();
      const handed = await withTimeout(waiting, 10_000, 'the hand-off to the long-poll');
      assert.equal(handed.status, 200);
      assert.ok(BigInt(handed.body.fence ?? '0') > lease.fence);
      await api.post(lockPath('http:direct', 'release'), { token: handed.body.token });
    } finally {
      await direct.close();
    }
  });
});

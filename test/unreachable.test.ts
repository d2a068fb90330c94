/**
 * A backend that went away must read as one: the error names the server and why it cannot be
 * reached, not ioredis's "max retries per request" or a timeout that looks like a lock timeout.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { BackendError, connect, LockTimeoutError } from '../src/index.js';
import { startServer } from '../src/server/index.js';
import { untilQueued } from './helpers/queue.js';
import { startRedis } from './helpers/redis-server.js';

const unreachable = (pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof BackendError, `a BackendError, got ${String(error)}`);
  assert.ok(!(error instanceof LockTimeoutError));
  assert.match(error.message, pattern);
  assert.doesNotMatch(error.message, /max retries|timed out/i);
  return true;
};

it('release() and a waiter with Redis down say that Redis at host:port is unreachable', async () => {
  const redis = await startRedis();
  const holder = await connect(redis.url);
  const waiter = await connect(redis.url);
  try {
    const lease = await holder.mutex('job', { ttl: 30_000 }).acquire();
    const waiting = waiter.mutex('job', { ttl: 30_000 }).acquire({ wait: 60_000 });
    await untilQueued(holder, 'job', 1);
    await redis.kill();
    const where = new RegExp(`^Redis at 127\\.0\\.0\\.1:${redis.port} unreachable: .*ECONNREFUSED`);
    await assert.rejects(lease.release(), unreachable(where));
    await assert.rejects(waiting, unreachable(where));
  } finally {
    await Promise.all([holder.close(), waiter.close()]);
    await redis.stop();
  }
});

it('a waiter whose holdfast server went away learns the server is unreachable', async () => {
  const server = await startServer({ port: 0, httpPort: 0 });
  const url = `holdfast://127.0.0.1:${server.port}`;
  const holder = await connect(url);
  const waiter = await connect(url);
  try {
    await holder.mutex('job', { ttl: 30_000 }).acquire();
    const waiting = waiter.mutex('job', { ttl: 30_000 }).acquire({ wait: 60_000 });
    await untilQueued(holder, 'job', 1);
    await server.close();
    await assert.rejects(
      waiting,
      unreachable(new RegExp(`^holdfast server at 127\\.0\\.0\\.1:${server.port} unreachable`)),
    );
  } finally {
    await Promise.all([holder.close(), waiter.close()]);
  }
});

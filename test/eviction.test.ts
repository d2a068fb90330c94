/** connect() refuses a Redis whose maxmemory-policy may evict lock keys, unless told the risk is known. */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Redis } from 'ioredis';
import { BackendError, connect } from '../src/index.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';

let redis: RedisProcess;
let admin: Redis;

before(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});

after(async () => {
  await admin.quit();
  await redis.stop();
});

for (const policy of ['allkeys-lru', 'volatile-ttl']) {
  it(`refuses maxmemory-policy ${policy} with a BackendError naming it; allowEviction: true connects`, async () => {
    await admin.config('SET', 'maxmemory-policy', policy);
    try {
      await assert.rejects(connect(redis.url), (error: unknown) => {
        assert.ok(error instanceof BackendError);
        assert.match(error.message, new RegExp(`maxmemory-policy ${policy}.*allowEviction`));
        return true;
      });
      const hf = await connect(redis.url, { allowEviction: true });
      await (await hf.mutex('x').acquire()).release();
      await hf.close();
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });
}

it('connects to a Redis with noeviction, and refuses a non-boolean allowEviction before any I/O', async () => {
  const hf = await connect(redis.url);
  await hf.close();
  await assert.rejects(connect(redis.url, { allowEviction: 'yes' as unknown as boolean }), { code: 'VALIDATION' });
});

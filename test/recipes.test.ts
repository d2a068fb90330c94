/**
 * The recipes (`cached`, `schedule`, `runExclusive`) on memory (real clock) and on a spawned
 * redis-server, plus what only one backend can show: a computing process killed mid-compute on
 * Redis, and the cache stores themselves.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { connect, MemoryStore, ValidationError } from '../src/index.js';
import { cached, memoryCacheStore, redisCacheStore } from '../src/recipes/index.js';
import { FakeClock } from '../src/testing/index.js';
import { spawnChild } from './helpers/child.js';
import { settled, waitFor, withTimeout } from './helpers/wait.js';
import { useRedisServer } from './helpers/world.js';
import { cachedSuite } from './recipes/cached-suite.js';
import { runExclusiveSuite } from './recipes/exclusive-suite.js';
import { scheduleSuite } from './recipes/schedule-suite.js';
import { memoryRecipeWorld, redisRecipeWorld } from './recipes/world.js';

describe('recipes on memory', () => {
  describe('cached', () => cachedSuite(memoryRecipeWorld));
  describe('runExclusive', () => runExclusiveSuite(memoryRecipeWorld));
  describe('schedule', () => scheduleSuite(memoryRecipeWorld));

  it('memoryCacheStore drops a value at its TTL, on the clock it was given', async () => {
    const clock = new FakeClock();
    const store = memoryCacheStore({ clock });
    await store.set('k', '"v"', 1000);
    await clock.advance(999);
    assert.equal(await store.get('k'), '"v"');
    await clock.advance(1);
    assert.equal(await store.get('k'), undefined);
    assert.throws(() => memoryCacheStore({ clock: {} as never }), ValidationError);
  });

  it('without a store, cached keeps values in the backend, under the client prefix', async () => {
    const backend = new MemoryStore();
    const [a, b, other] = await Promise.all([
      connect({ memory: backend }),
      connect({ memory: backend }),
      connect({ memory: backend }, { prefix: 'other:' }),
    ]);
    let computations = 0;
    const compute = (): number => ++computations;
    try {
      assert.equal(await cached(a, 'k', compute, { ttl: 60_000 }), 1);
      assert.equal(await cached(a, 'k', compute, { ttl: 60_000 }), 1);
      assert.equal(await cached(b, 'k', compute, { ttl: 60_000 }), 1, 'another client of the store reads it');
      assert.equal(await cached(other, 'k', compute, { ttl: 60_000 }), 2, 'another prefix has its own values');
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });
});

describe('recipes on redis', () => {
  const server = useRedisServer();
  const world = redisRecipeWorld(server);
  describe('cached', () => cachedSuite(world));
  describe('runExclusive', () => runExclusiveSuite(world));
  describe('schedule', () => scheduleSuite(world));

  it('a computing process killed mid-compute: the next caller computes once the lock TTL runs out', async () => {
    const w = await world();
    const lockTtl = 1000;
    const child = await spawnChild(new URL('./recipes/cache-holder.ts', import.meta.url), [
      server().url,
      w.prefix,
      'crashy',
      String(lockTtl),
    ]);
    try {
      const hf = await w.connect();
      await child.next('computing');
      let computed = 0;
      const options = { ttl: 60_000, lockTtl, store: w.store };
      const waiting = cached(hf, 'crashy', () => `computed by the waiter #${++computed}`, options);
      await waitFor(async () => (await hf.inspect('cache:crashy'))?.waiters.length === 1, { what: 'the waiter' });
      // The live child renews the lock: the waiter waits past the first TTL, not at it.
      const firstExpiry = (await hf.inspect('cache:crashy'))?.holders[0]?.expiresIn ?? 0;
      await waitFor(async () => ((await hf.inspect('cache:crashy'))?.holders[0]?.expiresIn ?? 0) > firstExpiry, {
        what: 'a renewal by the child',
      });
      assert.equal(await settled(waiting), false);
      const killedAt = Date.now();
      await child.kill();
      assert.equal(await withTimeout(waiting, 5000, 'the waiter to take over'), 'computed by the waiter #1');
      const tookOver = Date.now() - killedAt;
      assert.ok(tookOver <= lockTtl + 1000, `took over ${tookOver} ms after the kill`);
      assert.equal(computed, 1);
    } finally {
      await child.kill();
      await w.close();
    }
  });

  it('redisCacheStore writes prefix + key with a PX expiry', async () => {
    const redis = new Redis(server().url);
    try {
      const key = `k-${randomBytes(4).toString('hex')}`;
      await redisCacheStore(redis).set(key, '"v"', 5000);
      assert.equal(await redis.get(`holdfast:cache:${key}`), '"v"');
      const pttl = await redis.pttl(`holdfast:cache:${key}`);
      assert.ok(pttl > 0 && pttl <= 5000, `pttl ${pttl}`);
      const store = redisCacheStore(redis, { prefix: 'app:' });
      await store.set(key, '1', 1000);
      assert.equal(await redis.get(`app:${key}`), '1');
      assert.equal(await store.get(key), '1');
      assert.equal(await store.get('missing'), undefined);
      assert.throws(() => redisCacheStore({} as never), ValidationError);
      assert.throws(() => redisCacheStore(redis, { prefix: 5 as never }), ValidationError);
    } finally {
      await redis.quit();
    }
  });

  it('redisCacheStore({ client }) keeps values under the client prefix, where cached() without a store does', async () => {
    const url = server().url;
    const redis = new Redis(url);
    const tag = randomBytes(4).toString('hex');
    const [a, b] = await Promise.all([connect(url, { prefix: `a-${tag}:` }), connect(url, { prefix: `b-${tag}:` })]);
    try {
      let computed = 0;
      const compute = (): number => ++computed;
      // The default store (the backend's values) and redisCacheStore({ client }) are one cache.
      assert.equal(await cached(a, 'k', compute, { ttl: 60_000 }), 1);
      const storeA = redisCacheStore(redis, { client: a });
      assert.equal(await storeA.get('k'), '1');
      assert.equal(await redis.get(`a-${tag}:value:cache:k`), '1');
      await storeA.set('set-by-store', '"s"', 60_000);
      assert.equal(await cached(a, 'set-by-store', compute, { ttl: 60_000 }), 's');
      // Another prefix on the same Redis has its own values, with or without the store.
      const storeB = redisCacheStore(redis, { client: b });
      assert.equal(await storeB.get('k'), undefined);
      assert.equal(await cached(b, 'k', compute, { ttl: 60_000, store: storeB }), 2);
      assert.equal(await cached(a, 'k', compute, { ttl: 60_000 }), 1);
      assert.throws(() => redisCacheStore(redis, { client: a, prefix: 'x:' }), ValidationError);
      assert.throws(() => redisCacheStore(redis, { client: {} as never }), ValidationError);
    } finally {
      await Promise.all([a.close(), b.close(), redis.quit()]);
    }
  });
});

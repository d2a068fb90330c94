/**
 * The recipe examples under examples/ (cached-report, nightly-sync) run here on both backends,
 * so they cannot rot.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { cachedReport } from '../examples/cached-report.js';
import { nightlySync } from '../examples/nightly-sync.js';
import { connect, type Holdfast, MemoryStore } from '../src/index.js';
import { type CacheStore, memoryCacheStore, redisCacheStore } from '../src/recipes/index.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';

interface Setup {
  readonly clients: Holdfast[];
  readonly store: CacheStore;
  close(): Promise<void>;
}

function scenarios(setup: () => Promise<Setup>): void {
  const run = async <T>(fn: (s: Setup) => Promise<T>): Promise<T> => {
    const s = await setup();
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  };

  it('cached report: 20 concurrent requests on 3 clients compute once', async () => {
    const summary = await run(({ clients, store }) => cachedReport(clients, store));
    assert.equal(summary.computations, 1);
    assert.equal(summary.allGotValue, true);
    assert.equal(summary.ok, true);
  });

  it('nightly sync: one of three instances runs each of 3 per-second ticks, two skip', async () => {
    const summary = await run(({ clients }) => nightlySync(clients));
    assert.deepEqual(summary.errors, []);
    assert.deepEqual(summary.runsPerTick, [1, 1, 1]);
    assert.deepEqual(summary.skipsPerTick, [2, 2, 2]);
    assert.equal(summary.ok, true);
  });
}

describe('recipe examples on memory', () => {
  scenarios(async () => {
    const backend = new MemoryStore();
    const clients = await Promise.all([1, 2, 3].map(() => connect({ memory: backend })));
    return {
      clients,
      store: memoryCacheStore(),
      close: async () => {
        await Promise.all(clients.map((hf) => hf.close()));
      },
    };
  });
});

describe('recipe examples on redis', () => {
  let redis: RedisProcess;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });
  let run = 0;
  scenarios(async () => {
    const prefix = `examples-recipes-${++run}:`;
    const clients = await Promise.all([1, 2, 3].map(() => connect(redis.url, { prefix })));
    const cache = new Redis(redis.url);
    return {
      clients,
      store: redisCacheStore(cache, { prefix: `${prefix}cache:` }),
      close: async () => {
        await Promise.all(clients.map((hf) => hf.close()));
        await cache.quit();
      },
    };
  });
});

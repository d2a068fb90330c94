/**
 * A `cached` caller in its own process, for the crash test of test/recipes.test.ts:
 * `cache-holder.ts <url> <prefix> <key> <lockTtl>`. It misses the cache, takes the lock through
 * `cached`, reports `computing` from inside `compute`, and never finishes: the test SIGKILLs it
 * there, holding the lock.
 */
import { Redis } from 'ioredis';
import { connect } from '../../src/index.js';
import { cached, redisCacheStore } from '../../src/recipes/index.js';
import { report, runChild } from '../helpers/child.js';

const [url = '', prefix = '', key = '', lockTtl = ''] = process.argv.slice(2);

runChild(async () => {
  const hf = await connect(url, { prefix });
  const store = redisCacheStore(new Redis(url), { prefix: `${prefix}cache:` });
  await cached(
    hf,
    key,
    async () => {
      await report({ type: 'computing', pid: process.pid });
      // Hangs holding the lock (renewed) until the test kills the process.
      return new Promise<string>(() => {});
    },
    { ttl: 60_000, lockTtl: Number(lockTtl), store },
  );
  throw new Error('compute was expected to hang');
});

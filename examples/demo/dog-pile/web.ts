/**
 * One web process of seed 003: on `go` it serves a handful of concurrent requests that all need
 * the same expensive report, through `cached()` and a cache store every process shares.
 */
import { Redis } from 'ioredis';
import { type CacheStore, cached, redisCacheStore } from '../../../src/index.js';
import { connectTarget, type RoleHandle, type RoleIO } from '../role.js';
import { fileCacheStore } from './file-cache-store.js';

export interface DogPileConfig {
  readonly key: string;
  readonly requests: number;
  /** How long the expensive computation takes, ms. */
  readonly computeMs: number;
}

export async function web({ name, target, config, send }: RoleIO<DogPileConfig>): Promise<RoleHandle> {
  const { key, requests, computeMs } = config;
  const hf = await connectTarget(target);
  const cache = target.cache;
  const redis = cache.kind === 'redis' ? new Redis(cache.url) : null;
  const store: CacheStore =
    cache.kind === 'file' ? fileCacheStore(cache.dir) : redisCacheStore(redis as Redis, { prefix: cache.prefix });

  /** The expensive part: a monthly report that takes a while to build. */
  async function buildReport(): Promise<{ month: string; total: number; builtBy: string }> {
    send({ type: 'computing' });
    await new Promise((resolve) => setTimeout(resolve, computeMs));
    return { month: '2026-11', total: 1234, builtBy: name };
  }

  return {
    onMessage: async (message) => {
      if (message.type !== 'go') return;
      await Promise.all(
        Array.from({ length: requests }, async () => {
          const started = performance.now();
          const value = await cached(hf, key, buildReport, { ttl: 60_000, wait: 10_000, store });
          send({ type: 'answer', value, ms: performance.now() - started });
        }),
      );
      send({ type: 'done' });
    },
    stop: async () => {
      await hf.close();
      await redis?.quit();
    },
  };
}

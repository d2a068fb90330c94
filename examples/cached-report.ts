/**
 * Seed 003 with the `cached` recipe: 20 requests on 3 clients miss the cache for one expensive
 * report at the same moment. One computes it; the others queue on the lock `cache:<key>` and
 * read the value it stored, instead of computing it again.
 */
import { randomBytes } from 'node:crypto';
import type { Holdfast } from '../src/index.js';
import { type CacheStore, cached, memoryCacheStore } from '../src/recipes/index.js';

export interface CachedReportSummary {
  readonly requests: number;
  readonly computations: number;
  readonly allGotValue: boolean;
  readonly ok: boolean;
}

/**
 * `store` is where the report is cached: share one across the clients (a `redisCacheStore`
 * across processes); the default is one memory store for all three, as they share a process.
 */
export async function cachedReport(
  clients: readonly Holdfast[],
  store: CacheStore = memoryCacheStore(),
  requests = 20,
): Promise<CachedReportSummary> {
  // A fresh key per run, so the cache is cold even on a Redis that ran the demo before.
  const key = `report:2026-11:${randomBytes(4).toString('hex')}`;
  let computations = 0;
  const expensive = async (): Promise<{ month: string; total: number }> => {
    computations++;
    await new Promise((resolve) => setTimeout(resolve, 30));
    return { month: '2026-11', total: 1234 };
  };
  const values = await Promise.all(
    Array.from({ length: requests }, (_, i) =>
      cached(clients[i % clients.length] as Holdfast, key, expensive, { ttl: 60_000, wait: 10_000, store }),
    ),
  );
  const allGotValue = values.every((v) => v.month === '2026-11' && v.total === 1234);
  return { requests, computations, allGotValue, ok: computations === 1 && allGotValue };
}

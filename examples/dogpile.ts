/**
 * Seed 003 — dog-pile prevention: many requests miss the cache for one expensive key at once;
 * exactly one computes it under the lock, the others wait for the lock and then find the value.
 */
import type { Holdfast } from '../src/index.js';

export interface DogpileSummary {
  readonly requests: number;
  readonly computations: number;
  readonly allGotValue: boolean;
  readonly ok: boolean;
}

export async function dogpile(clients: readonly Holdfast[], requests = 20): Promise<DogpileSummary> {
  const cache = new Map<string, string>();
  let computations = 0;
  const expensive = async (): Promise<string> => {
    computations++;
    await new Promise((resolve) => setTimeout(resolve, 30));
    return 'report-2026-11';
  };
  const get = async (hf: Holdfast): Promise<string> => {
    const hit = cache.get('report');
    if (hit !== undefined) return hit;
    return hf.mutex('cache:report', { ttl: 5_000 }).withLock(
      async () => {
        // Someone else may have filled it while we waited for the lock.
        const again = cache.get('report');
        if (again !== undefined) return again;
        const value = await expensive();
        cache.set('report', value);
        return value;
      },
      { wait: 10_000 },
    );
  };
  const values = await Promise.all(
    Array.from({ length: requests }, (_, i) => get(clients[i % clients.length] as Holdfast)),
  );
  const allGotValue = values.every((v) => v === 'report-2026-11');
  return { requests, computations, allGotValue, ok: computations === 1 && allGotValue };
}

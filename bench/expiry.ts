/**
 * Measure 4: expiry take-over. A holder takes the lock with a short TTL and "crashes" (its
 * connection is dropped, nothing released); a waiter on another connection is already blocked
 * in acquire(). Latency = the moment the waiter holds − the moment the TTL ran out. Peers at
 * their defaults, so their waiters find out at their next poll.
 */
import { crashedHolder, LIBS, type LibName, openLocker } from './libs.js';
import { lanes, percentile, wallNow } from './stats.js';
import type { Row } from './table.js';

export const TTL = 300;
const REPS = 20;
const LANES = 4;

interface LibResult {
  readonly samples: number[];
  readonly failures: string[];
}

async function measureLib(lib: LibName, url: string): Promise<LibResult> {
  const waiter = await openLocker(lib, url);
  const samples: number[] = [];
  const failures: string[] = [];
  try {
    await lanes(LANES, async (lane) => {
      for (let rep = 0; rep < REPS / LANES; rep++) {
        const key = `expiry:${lane}:${rep}`;
        const holder = await crashedHolder(lib, url, key, TTL);
        try {
          const release = await waiter.acquire(key);
          samples.push(wallNow() - holder.expiresAt);
          await release();
        } catch (error) {
          failures.push(error instanceof Error ? error.name : String(error));
        } finally {
          await holder.dispose();
        }
      }
    });
  } finally {
    await waiter.close();
  }
  return { samples, failures };
}

export async function runExpiry(url: string): Promise<Row[]> {
  const results = {} as Record<LibName, LibResult>;
  for (const lib of LIBS) results[lib] = await measureLib(lib, url);
  const values = (p: number): Record<LibName, number> => ({
    holdfast: percentile(results.holdfast.samples, p),
    redlock: percentile(results.redlock.samples, p),
    'redis-semaphore': percentile(results['redis-semaphore'].samples, p),
  });
  const notes = {} as Record<LibName, string>;
  for (const lib of LIBS) {
    const { samples, failures } = results[lib];
    notes[lib] = `${samples.length} take-overs, ${failures.length} failed${failures.length ? ` (${failures[0]})` : ''}`;
  }
  const label = `expiry take-over (crashed holder, ttl ${TTL} ms)`;
  return [
    { measure: `${label} p50`, unit: 'ms', better: 'lower', values: values(50), notes },
    { measure: `${label} p99`, unit: 'ms', better: 'lower', values: values(99) },
  ];
}

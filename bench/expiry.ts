/**
 * Measure 4: expiry take-over. A holder takes the lock with a short TTL and "crashes" (its
 * connection is dropped, nothing released); a waiter on another connection is already blocked
 * in acquire(). Latency = the moment the waiter holds − the moment the TTL ran out. Peers at
 * their defaults, so their waiters find out at their next poll.
 *
 * holdfast:// (the embedded server, informational): the holder is a process of its own that
 * takes one key per lane and is then SIGKILLed (expiry-holder-worker.ts says why), once per
 * round of LANES take-overs; the waiter is in this process, as on Redis. Same TTL and count.
 */
import type { TakeCommand } from './expiry-holder-worker.js';
import { startWorker } from './ipc.js';
import { crashedHolder, LIBS, type LibName, openLocker } from './libs.js';
import { lanes, percentile, wallNow } from './stats.js';
import { byColumn, LOCK_COLUMNS, type LockColumn, type Row } from './table.js';

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

/** holdfast on the embedded server at `serverUrl`, the holder a process that is killed. */
async function measureServer(serverUrl: string): Promise<LibResult> {
  const waiter = await openLocker('holdfast', serverUrl);
  const samples: number[] = [];
  const failures: string[] = [];
  try {
    for (let round = 0; round < REPS / LANES; round++) {
      const holder = await startWorker('./expiry-holder-worker.ts', 'holdfast', serverUrl);
      let expiresAt: number[];
      try {
        expiresAt = await Promise.all(
          Array.from({ length: LANES }, (_, lane) => {
            const take: TakeCommand = { cmd: 'take', key: `expiry:${lane}:${round}`, ttl: TTL };
            return holder.call<number>(take);
          }),
        );
      } finally {
        await holder.kill();
      }
      await lanes(LANES, async (lane) => {
        try {
          const release = await waiter.acquire(`expiry:${lane}:${round}`);
          samples.push(wallNow() - (expiresAt[lane] ?? Number.NaN));
          await release();
        } catch (error) {
          failures.push(error instanceof Error ? error.name : String(error));
        }
      });
    }
  } finally {
    await waiter.close();
  }
  return { samples, failures };
}

/** `url`: the Redis server; `serverUrl`: the embedded holdfast server (holdfast://). */
export async function runExpiry(url: string, serverUrl: string): Promise<Row[]> {
  const results = {} as Record<LockColumn, LibResult>;
  for (const lib of LIBS) {
    results[lib] = await measureLib(lib, url);
    if (lib === 'holdfast') results['holdfast://'] = await measureServer(serverUrl);
  }
  const values = (p: number): Record<LockColumn, number> =>
    byColumn(LOCK_COLUMNS, (column) => percentile(results[column].samples, p));
  const notes = byColumn(LOCK_COLUMNS, (column) => {
    const { samples, failures } = results[column];
    const crash = column === 'holdfast://' ? '; holder process SIGKILLed after taking' : '';
    return `${samples.length} take-overs, ${failures.length} failed${failures.length ? ` (${failures[0]})` : ''}${crash}`;
  });
  const label = `expiry take-over (crashed holder, ttl ${TTL} ms)`;
  return [
    { measure: `${label} p50`, unit: 'ms', better: 'lower', values: values(50), notes },
    { measure: `${label} p99`, unit: 'ms', better: 'lower', values: values(99) },
  ];
}

/**
 * Measure 2: one key, PROCESSES processes × TASKS async tasks each contending back to back:
 * acquire → a critical section of ROUND_TRIPS Redis round trips (contended-worker.ts) → release
 * → acquire again at once. Acquisitions per second, the acquire wait (p50, p99, max) across all
 * tasks, and fairness (fewest ÷ most acquisitions of any task); each library at its defaults
 * (holdfast queues FIFO with hand-off, redlock retries 10× every 200 ± 100 ms, redis-semaphore
 * polls every 10 ms), failures counted. The critical section increments a counter read-modify-write,
 * so lost updates (a broken mutual exclusion) show in the notes. holdfast:// (the embedded
 * server, informational) runs the same workers with the same settings; its critical section
 * talks to the same Redis.
 */
import { Redis } from 'ioredis';
import type { RunCommand, RunResult } from './contended-worker.js';
import { startWorkers, stopAll, type Worker } from './ipc.js';
import { LIBS } from './libs.js';
import { percentile, sharedNow } from './stats.js';
import { byColumn, LOCK_COLUMNS, type LockColumn, type Row } from './table.js';

export const PROCESSES = 4;
export const TASKS = 4;
export const ROUND_TRIPS = 2;
const DURATION = 3000;

/** The measure names' prefix (targets.ts finds the rows by it). */
export const CONTENDED = `contended, ${PROCESSES} processes × ${TASKS} tasks, 1 key, ${ROUND_TRIPS} Redis round trips held`;

interface LibResult {
  readonly throughput: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Fewest ÷ most acquires of any task (1: perfectly even). */
  readonly fairness: number;
  readonly notes: string;
}

async function run(workers: readonly Worker[], column: string, workUrl: string): Promise<LibResult> {
  const counter = `bench:contended:counter:${column}`;
  const command: RunCommand = {
    cmd: 'run',
    key: 'contended',
    startAt: sharedNow() + 100,
    duration: DURATION,
    tasks: TASKS,
    roundTrips: ROUND_TRIPS,
    workUrl,
    counter,
  };
  const results = await Promise.all(workers.map((w) => w.call<RunResult>(command)));
  const waits = results.flatMap((r) => r.waits);
  const failures = new Map<string, number>();
  for (const r of results) {
    for (const [name, count] of Object.entries(r.failures)) failures.set(name, (failures.get(name) ?? 0) + count);
  }
  const counts = results.flatMap((r) => r.ops);
  const sections = results.reduce((sum, r) => sum + r.sections, 0);
  const admin = new Redis(workUrl);
  const counted = Number((await admin.get(counter)) ?? 0);
  admin.disconnect();
  const most = Math.max(...counts);
  const failed = [...failures].map(([name, count]) => `${count} ${name}`).join(', ') || '0 failed';
  return {
    throughput: (waits.length * 1000) / DURATION,
    p50: percentile(waits, 50),
    p99: percentile(waits, 99),
    max: percentile(waits, 100),
    fairness: most > 0 ? Math.min(...counts) / most : Number.NaN,
    notes: `${failed}; ${sections - counted} lost updates; fewest/most acquisitions of a task ${Math.min(...counts)}/${most}`,
  };
}

async function measureLib(lib: string, url: string, column: string, workUrl: string): Promise<LibResult> {
  const workers = await startWorkers('./contended-worker.ts', lib, url, PROCESSES);
  try {
    return await run(workers, column, workUrl);
  } finally {
    await stopAll(workers);
  }
}

/** `url`: the Redis server; `serverUrl`: the embedded holdfast server (holdfast://). */
export async function runContended(url: string, serverUrl: string): Promise<Row[]> {
  const results = {} as Record<LockColumn, LibResult>;
  for (const lib of LIBS) {
    results[lib] = await measureLib(lib, url, lib, url);
    if (lib === 'holdfast') results['holdfast://'] = await measureLib(lib, serverUrl, 'holdfast-server', url);
  }
  const values = (f: (r: LibResult) => number): Record<LockColumn, number> =>
    byColumn(LOCK_COLUMNS, (column) => f(results[column]));
  return [
    {
      measure: `${CONTENDED}: acquisitions/s`,
      unit: 'ops/s',
      better: 'higher',
      values: values((r) => r.throughput),
      notes: byColumn(LOCK_COLUMNS, (column) => results[column].notes),
    },
    { measure: `${CONTENDED}: acquire wait p50`, unit: 'ms', better: 'lower', values: values((r) => r.p50) },
    { measure: `${CONTENDED}: acquire wait p99`, unit: 'ms', better: 'lower', values: values((r) => r.p99) },
    // A poller's long waits are few (one per retry delay), so they can hide beyond p99.
    { measure: `${CONTENDED}: acquire wait max`, unit: 'ms', better: 'lower', values: values((r) => r.max) },
    {
      measure: `${CONTENDED}: fairness (fewest ÷ most acquisitions per task)`,
      unit: 'min/max',
      better: 'higher',
      values: values((r) => r.fairness),
    },
  ];
}

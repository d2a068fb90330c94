/**
 * Measure 2: one key, several processes contending, in two shapes:
 * - back-to-back: acquire → tiny critical section → release → acquire again at once (every
 *   process always wants the lock: the worst case for a FIFO queue's waits);
 * - with other work: the same, then ~2 ms of other (async) work before the next acquire, which
 *   is how real services contend.
 * Total throughput, the acquire wait (p50, p99, max) across all processes and fairness (fewest ÷
 * most acquires of any process); each library at its defaults (holdfast queues FIFO with
 * hand-off, redlock retries 10× every 200 ± 100 ms, redis-semaphore polls every 10 ms), failures
 * counted. The same worker processes run both shapes, on different keys. holdfast:// (the embedded
 * server, informational) runs the same workers with the same settings against its own server.
 */
import type { RunCommand, RunResult } from './contended-worker.js';
import { startWorkers, stopAll, type Worker } from './ipc.js';
import { LIBS, type LibName } from './libs.js';
import { percentile, wallNow } from './stats.js';
import { byColumn, LOCK_COLUMNS, type LockColumn, type Row } from './table.js';

export const PROCESSES = 4;
const DURATION = 3000;
export const BUSY_MS = 0.2;
export const GAP_MS = 2;

/** The measure names' prefixes (targets.ts finds the p99 rows by them). */
export const BACK_TO_BACK = `contended, ${PROCESSES} processes, 1 key`;
export const WITH_GAP = `contended + ${GAP_MS} ms other work between acquires, ${PROCESSES} processes, 1 key`;

interface LibResult {
  readonly throughput: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Fewest ÷ most acquires of any process (1: perfectly even). */
  readonly fairness: number;
  readonly notes: string;
}

async function run(workers: readonly Worker[], key: string, gap: number): Promise<LibResult> {
  const command: RunCommand = {
    cmd: 'run',
    key,
    startAt: wallNow() + 50,
    duration: DURATION,
    busy: BUSY_MS,
    gap,
  };
  const results = await Promise.all(workers.map((w) => w.call<RunResult>(command)));
  const waits = results.flatMap((r) => r.waits);
  const failures = new Map<string, number>();
  for (const r of results) {
    for (const [name, count] of Object.entries(r.failures)) failures.set(name, (failures.get(name) ?? 0) + count);
  }
  const counts = results.map((r) => r.ops);
  const most = Math.max(...counts);
  const failed = [...failures].map(([name, count]) => `${count} ${name}`).join(', ') || '0 failed';
  return {
    throughput: (waits.length * 1000) / DURATION,
    p50: percentile(waits, 50),
    p99: percentile(waits, 99),
    max: percentile(waits, 100),
    fairness: most > 0 ? Math.min(...counts) / most : Number.NaN,
    notes: `${failed}; acquires per process ${counts.join('/')}`,
  };
}

async function measureLib(lib: LibName, url: string): Promise<[LibResult, LibResult]> {
  const workers = await startWorkers('./contended-worker.ts', lib, url, PROCESSES);
  try {
    const backToBack = await run(workers, 'contended', 0);
    const withGap = await run(workers, 'contended-gap', GAP_MS);
    return [backToBack, withGap];
  } finally {
    await stopAll(workers);
  }
}

function rows(label: string, results: Record<LockColumn, LibResult>): Row[] {
  const values = (f: (r: LibResult) => number): Record<LockColumn, number> =>
    byColumn(LOCK_COLUMNS, (column) => f(results[column]));
  return [
    {
      measure: `${label}: throughput`,
      unit: 'ops/s',
      better: 'higher',
      values: values((r) => r.throughput),
      notes: byColumn(LOCK_COLUMNS, (column) => results[column].notes),
    },
    { measure: `${label}: acquire wait p50`, unit: 'ms', better: 'lower', values: values((r) => r.p50) },
    { measure: `${label}: acquire wait p99`, unit: 'ms', better: 'lower', values: values((r) => r.p99) },
    // A poller's long waits are few (one per retry delay), so they can hide beyond p99.
    { measure: `${label}: acquire wait max`, unit: 'ms', better: 'lower', values: values((r) => r.max) },
    {
      measure: `${label}: fairness (fewest ÷ most acquires per process)`,
      unit: 'min/max',
      better: 'higher',
      values: values((r) => r.fairness),
    },
  ];
}

/** `url`: the Redis server; `serverUrl`: the embedded holdfast server (holdfast://). */
export async function runContended(url: string, serverUrl: string): Promise<Row[]> {
  const backToBack = {} as Record<LockColumn, LibResult>;
  const withGap = {} as Record<LockColumn, LibResult>;
  for (const lib of LIBS) {
    [backToBack[lib], withGap[lib]] = await measureLib(lib, url);
    if (lib === 'holdfast') [backToBack['holdfast://'], withGap['holdfast://']] = await measureLib(lib, serverUrl);
  }
  return [...rows(BACK_TO_BACK, backToBack), ...rows(WITH_GAP, withGap)];
}

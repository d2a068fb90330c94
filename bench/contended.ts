/**
 * Measure 2: one key, several processes looping acquire → tiny critical section → release.
 * Total throughput and the acquire wait (p50, p99) across all processes; each library at its
 * defaults (holdfast queues FIFO with hand-off, redlock retries 10× every 200 ± 100 ms,
 * redis-semaphore polls every 10 ms), failures counted.
 */
import type { RunCommand, RunResult } from './contended-worker.js';
import { startWorkers, stopAll } from './ipc.js';
import { LIBS, type LibName } from './libs.js';
import { percentile, wallNow } from './stats.js';
import type { Row } from './table.js';

export const PROCESSES = 4;
const DURATION = 3000;
const BUSY_MS = 0.2;

interface LibResult {
  readonly throughput: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly failures: string;
}

async function measureLib(lib: LibName, url: string): Promise<LibResult> {
  const workers = await startWorkers('./contended-worker.ts', lib, url, PROCESSES);
  try {
    const command: RunCommand = {
      cmd: 'run',
      key: 'contended',
      startAt: wallNow() + 50,
      duration: DURATION,
      busy: BUSY_MS,
    };
    const results = await Promise.all(workers.map((w) => w.call<RunResult>(command)));
    const waits = results.flatMap((r) => r.waits);
    const failures = new Map<string, number>();
    for (const r of results) {
      for (const [name, count] of Object.entries(r.failures)) failures.set(name, (failures.get(name) ?? 0) + count);
    }
    const perWorker = results.map((r) => r.ops).join('/');
    const failed = [...failures].map(([name, count]) => `${count} ${name}`).join(', ') || '0 failed';
    return {
      throughput: (waits.length * 1000) / DURATION,
      p50: percentile(waits, 50),
      p99: percentile(waits, 99),
      max: percentile(waits, 100),
      failures: `${failed}; acquires per process ${perWorker}`,
    };
  } finally {
    await stopAll(workers);
  }
}

export async function runContended(url: string): Promise<Row[]> {
  const results = {} as Record<LibName, LibResult>;
  for (const lib of LIBS) results[lib] = await measureLib(lib, url);
  const values = (f: (r: LibResult) => number): Record<LibName, number> => ({
    holdfast: f(results.holdfast),
    redlock: f(results.redlock),
    'redis-semaphore': f(results['redis-semaphore']),
  });
  const label = `contended, ${PROCESSES} processes, 1 key`;
  return [
    {
      measure: `${label}: throughput`,
      unit: 'ops/s',
      better: 'higher',
      values: values((r) => r.throughput),
      notes: {
        holdfast: results.holdfast.failures,
        redlock: results.redlock.failures,
        'redis-semaphore': results['redis-semaphore'].failures,
      },
    },
    { measure: `${label}: acquire wait p50`, unit: 'ms', better: 'lower', values: values((r) => r.p50) },
    { measure: `${label}: acquire wait p99`, unit: 'ms', better: 'lower', values: values((r) => r.p99) },
    // A poller's long waits are few (one per retry delay), so they can hide beyond p99.
    { measure: `${label}: acquire wait max`, unit: 'ms', better: 'lower', values: values((r) => r.max) },
  ];
}

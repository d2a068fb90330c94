/**
 * Measure 3: hand-off latency. Process A holds the lock, process B is already blocked in
 * acquire(); A notes t0 right before release(), B notes t1 when its acquire resolves;
 * latency = t1 − t0 (one machine, so both high-resolution wall clocks agree). A releases at a
 * random 5–205 ms after B started waiting, so polling peers are caught at a random phase of
 * their retry cycle. Several keys run side by side to keep the run short. holdfast:// (the embedded
 * server, informational) runs the same, as many times. The floor runs the same harness with a bare
 * PUBLISH → SUBSCRIBE between the two processes (publish-worker.ts) in place of a lock, right
 * before holdfast's run, so both meet the machine in the same state.
 * It runs twice: the two worker processes on another core than Redis and the embedded server
 * ("apart"), then on the same core as them ("same core"), see pin.ts.
 */
import type { Acquired } from './handoff-protocol.js';
import { startWorkers, stopAll, type Worker } from './ipc.js';
import { LIBS } from './libs.js';
import { CLIENT_CPU, PINNING, SERVER_CPU } from './pin.js';
import { percentile, uniform } from './stats.js';
import { byColumn, LOCK_COLUMNS, type LockColumn, type Row } from './table.js';

const REPS = 200;
const LANES = 10;
const MIN_DELAY = 5;
const MAX_DELAY = 205;

interface LibResult {
  readonly samples: number[];
  readonly failures: string[];
}

async function measureLib(lib: string, url: string, cpu: number, worker = './handoff-worker.ts'): Promise<LibResult> {
  const workers = await startWorkers(worker, lib, url, 2, cpu);
  const [holder, waiter] = workers as [Worker, Worker];
  try {
    const samples: number[] = [];
    const failures: string[] = [];
    const rep = async (key: string): Promise<void> => {
      await holder.call({ cmd: 'hold', key });
      await waiter.call({ cmd: 'wait', key });
      const acquired = waiter.call<Acquired>({ cmd: 'acquired', key });
      const t0 = await holder.call<number>({ cmd: 'release', key, delay: uniform(MIN_DELAY, MAX_DELAY) });
      const { t1, error } = await acquired;
      if (t1 === null) failures.push(error ?? 'failed');
      else samples.push(t1 - t0);
    };
    await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        for (let i = lane; i < REPS; i += LANES) await rep(`handoff:${lane}`);
      }),
    );
    return { samples, failures };
  } finally {
    await stopAll(workers);
  }
}

export interface HandoffFloor {
  /** ms from PUBLISH to the subscriber in the other process noting the message. */
  readonly p50: number;
  readonly p99: number;
}

/** The same harness with a bare PUBLISH → SUBSCRIBE on `url` (Redis) in place of a lock. */
async function measureFloor(url: string, cpu: number): Promise<HandoffFloor> {
  const { samples, failures } = await measureLib('pubsub', url, cpu, './publish-worker.ts');
  if (failures.length > 0) throw new Error(`hand-off floor: ${failures[0]}`);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** The two placements of the worker processes. */
export const PLACEMENTS = [
  { label: 'apart', cpu: CLIENT_CPU },
  { label: 'same core', cpu: SERVER_CPU },
] as const;
export type Placement = (typeof PLACEMENTS)[number]['label'];

export const handoffLabel = (placement: Placement): string =>
  `hand-off latency (${placement}${PINNING ? '' : ', not pinned'})`;

/**
 * `url`: the Redis server; `serverUrl`: the embedded holdfast server (holdfast://). Returns the
 * rows and the floor on `url`, for each placement.
 */
export async function runHandoff(
  url: string,
  serverUrl: string,
): Promise<{ rows: Row[]; floors: Record<Placement, HandoffFloor> }> {
  const rows: Row[] = [];
  const floors = {} as Record<Placement, HandoffFloor>;
  for (const { label, cpu } of PLACEMENTS) {
    const placed = await runPlaced(url, serverUrl, cpu, handoffLabel(label));
    rows.push(...placed.rows);
    floors[label] = placed.floor;
  }
  return { rows, floors };
}

async function runPlaced(
  url: string,
  serverUrl: string,
  cpu: number,
  label: string,
): Promise<{ rows: Row[]; floor: HandoffFloor }> {
  // First, so that holdfast's hand-offs, measured next, meet the machine in the same state.
  const floor = await measureFloor(url, cpu);
  const results = {} as Record<LockColumn, LibResult>;
  for (const lib of LIBS) {
    results[lib] = await measureLib(lib, url, cpu);
    if (lib === 'holdfast') results['holdfast://'] = await measureLib(lib, serverUrl, cpu);
  }
  const values = (p: number): Record<LockColumn, number> =>
    byColumn(LOCK_COLUMNS, (column) => percentile(results[column].samples, p));
  const notes = byColumn(LOCK_COLUMNS, (column) => {
    const { samples, failures } = results[column];
    return `${samples.length} hand-offs, ${failures.length} failed${failures.length ? ` (${failures[0]})` : ''}`;
  });
  const rows: Row[] = [
    {
      measure: `${label} p50 (release → waiter holds)`,
      unit: 'ms',
      better: 'lower',
      values: values(50),
      notes,
    },
    { measure: `${label} p99`, unit: 'ms', better: 'lower', values: values(99) },
  ];
  return { rows, floor };
}

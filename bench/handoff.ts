/**
 * Measure 3: hand-off latency. Process A holds the lock, process B is already blocked in
 * acquire(); A notes t0 right before release(), B notes t1 when its acquire resolves;
 * latency = t1 − t0 (one machine: both read its one monotonic clock, stats.ts sharedNow). A
 * releases at a random 5–205 ms after B started waiting, so polling peers are caught at a random
 * phase of their retry cycle. To keep the run short, LANES keys run side by side in batches:
 * every lane of a batch takes its lock and queues its waiter first, then the lanes release at
 * their random moments, at least GAP ms apart, so that no hand-off meets another one, nor another
 * lane's acquires and releases (which a bare floor does not have). holdfast:// (the embedded
 * server) runs the same, as many times. The floor runs the same harness with a bare
 * PUBLISH → SUBSCRIBE between the two processes (publish-worker.ts) in place of a lock, and the
 * embedded server's floor the same through a bare Node relay on the embedded server's core
 * (relay-server.ts, relay-worker.ts). All of them take turns, ROUNDS times, so that they meet
 * the machine in the same state.
 * Each pair first hands off WARM_HANDOFFS times untimed, so that what is timed runs compiled code.
 * It runs twice: the two worker processes on another core than Redis and the embedded server
 * ("apart"), then on the same core as them ("same core"), see pin.ts.
 */
import type { Acquired } from './handoff-protocol.js';
import { type HandoffScriptTimes, handoffScriptTimes } from './handoff-script-time.js';
import { startWorker, startWorkers, stopAll, type Worker } from './ipc.js';
import { LIBS } from './libs.js';
import { CLIENT_CPU, PINNING, SERVER_CPU } from './pin.js';
import { percentile, uniform } from './stats.js';
import { byColumn, LOCK_COLUMNS, type LockColumn, type Row } from './table.js';

const REPS = 200;
const ROUNDS = 2;
const LANES = 10;
const MIN_DELAY = 5;
const MAX_DELAY = 205;
/** ms between two releases of a batch: a hand-off and the waiter's release after it take ~1–3. */
const GAP = 5;
/**
 * Untimed hand-offs each pair runs back to back before its first timed one, WARM_LANES at a
 * time, for at most WARM_MS (a polling peer hands off once per retry interval). Without them the
 * code a hand-off runs is still interpreted when it is timed: 200 hand-offs leave every function
 * on holdfast's wake path unoptimized (node --trace-opt), as they leave ioredis's; a service that
 * has handed off a few thousand times runs it compiled. Every library and both floors get the same.
 * A lane's release comes WARM_GAP ms after the one before, so that each goes out on its own as
 * the timed ones do: released in the same tick, holdfast's would go out batched (coalescer.ts),
 * down another path than the one timed (50 lanes at once: 1.23–1.41× the floor apart over five
 * runs; 1 ms apart: 1.01–1.26× over three).
 */
const WARM_HANDOFFS = 2000;
const WARM_LANES = 10;
const WARM_GAP = 1;
const WARM_MS = 6000;

interface LibResult {
  readonly samples: number[];
  readonly failures: string[];
}

/** Two worker processes of one library (holder and waiter), kept for the rounds of a placement. */
interface Pair {
  /** Runs `reps` hand-offs; adds their latencies (ms) and failures to `into`. */
  run(reps: number, into: LibResult): Promise<void>;
  /** WARM_HANDOFFS hand-offs one after another (or WARM_MS of them), timed by nobody. */
  warm(): Promise<void>;
  stop(): Promise<void>;
}

async function openPair(lib: string, url: string, cpu: number, worker = './handoff-worker.ts'): Promise<Pair> {
  const workers = await startWorkers(worker, lib, url, 2, cpu);
  const [holder, waiter] = workers as [Worker, Worker];
  const prepare = async (key: string): Promise<void> => {
    await holder.call({ cmd: 'hold', key });
    await waiter.call({ cmd: 'wait', key });
  };
  const handOff = async (key: string, delay: number, into: LibResult): Promise<void> => {
    const acquired = waiter.call<Acquired>({ cmd: 'acquired', key });
    const t0 = await holder.call<number>({ cmd: 'release', key, delay });
    const { t1, error } = await acquired;
    if (t1 === null) into.failures.push(error ?? 'failed');
    else into.samples.push(t1 - t0);
  };
  return {
    run: async (reps, into) => {
      for (let done = 0; done < reps; done += LANES) {
        const keys = Array.from({ length: Math.min(LANES, reps - done) }, (_, lane) => `handoff:${lane}`);
        await Promise.all(keys.map(prepare));
        const delays = releaseMoments(keys.length);
        await Promise.all(keys.map((key, lane) => handOff(key, delays[lane] ?? MIN_DELAY, into)));
      }
    },
    warm: async () => {
      const until = performance.now() + WARM_MS;
      const discarded: LibResult = { samples: [], failures: [] };
      const keys = Array.from({ length: WARM_LANES }, (_, lane) => `handoff:warm:${lane}`);
      for (let done = 0; done < WARM_HANDOFFS && performance.now() < until; done += WARM_LANES) {
        await Promise.all(keys.map(prepare));
        await Promise.all(keys.map((key, lane) => handOff(key, (lane + 1) * WARM_GAP, discarded)));
      }
    },
    stop: () => stopAll(workers),
  };
}

/**
 * `count` release moments (ms after the batch's waits began), each drawn from MIN_DELAY–
 * MAX_DELAY and then moved later where needed to lie GAP ms after the one before.
 */
function releaseMoments(count: number): number[] {
  const sorted = Array.from({ length: count }, () => uniform(MIN_DELAY, MAX_DELAY)).sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) sorted[i] = Math.max(sorted[i] ?? 0, (sorted[i - 1] ?? 0) + GAP);
  return sorted;
}

export interface HandoffFloor {
  /** ms from PUBLISH to the subscriber in the other process noting the message. */
  readonly p50: number;
  readonly p99: number;
  /** The same through a bare Node relay in place of Redis (the embedded server's floor). */
  readonly relay: { readonly p50: number; readonly p99: number };
  /** Redis's own time for holdfast's hand-off script and for the floor's PUBLISH (one probe per run). */
  readonly scripts: HandoffScriptTimes;
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
  const relay = await startWorker('./relay-server.ts', 'relay', '', SERVER_CPU);
  try {
    const relayUrl = `relay://127.0.0.1:${await relay.call<number>({ cmd: 'port' })}`;
    const scripts = await handoffScriptTimes(url, { min: MIN_DELAY, max: MAX_DELAY });
    for (const { label, cpu } of PLACEMENTS) {
      const placed = await runPlaced(url, serverUrl, relayUrl, cpu, handoffLabel(label));
      rows.push(...placed.rows);
      floors[label] = { ...placed.floor, scripts };
    }
  } finally {
    await relay.stop();
  }
  return { rows, floors };
}

type Subject = LockColumn | 'floor' | 'relay';

async function runPlaced(
  url: string,
  serverUrl: string,
  relayUrl: string,
  cpu: number,
  label: string,
): Promise<{ rows: Row[]; floor: Omit<HandoffFloor, 'scripts'> }> {
  // Every library's workers stay up while they take turns, ROUNDS times, each time the bare
  // floors first: a spell of load elsewhere falls on all of them alike.
  const subjects: { column: Subject; lib: string; url: string; worker?: string }[] = [
    { column: 'floor', lib: 'pubsub', url, worker: './publish-worker.ts' },
    { column: 'relay', lib: 'relay', url: relayUrl, worker: './relay-worker.ts' },
    ...LIBS.flatMap((lib) => [
      { column: lib, lib, url },
      ...(lib === 'holdfast' ? [{ column: 'holdfast://' as const, lib, url: serverUrl }] : []),
    ]),
  ];
  const pairs: Pair[] = [];
  const results = new Map<Subject, LibResult>();
  try {
    for (const subject of subjects) {
      const pair = await openPair(subject.lib, subject.url, cpu, subject.worker);
      pairs.push(pair);
      await pair.warm();
      results.set(subject.column, { samples: [], failures: [] });
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, subject] of subjects.entries()) {
        await pairs[i]?.run(REPS / ROUNDS, results.get(subject.column) as LibResult);
      }
    }
  } finally {
    await Promise.all(pairs.map((pair) => pair.stop()));
  }
  const bare = (column: 'floor' | 'relay'): { p50: number; p99: number } => {
    const measured = results.get(column) as LibResult;
    if (measured.failures.length > 0) throw new Error(`hand-off ${column} floor: ${measured.failures[0]}`);
    return { p50: percentile(measured.samples, 50), p99: percentile(measured.samples, 99) };
  };
  const floor = { ...bare('floor'), relay: bare('relay') };
  const byLib = byColumn(LOCK_COLUMNS, (column) => results.get(column) as LibResult);
  const values = (p: number): Record<LockColumn, number> =>
    byColumn(LOCK_COLUMNS, (column) => percentile(byLib[column].samples, p));
  const notes = byColumn(LOCK_COLUMNS, (column) => {
    const { samples, failures } = byLib[column];
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

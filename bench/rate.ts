/**
 * Measure 5: rate limiters, holdfast (default sliding window; fixed window as an informational
 * column) against rate-limiter-flexible's RateLimiterRedis at its defaults, all at LIMIT per
 * WINDOW ms on one key:
 * - throughput: PROCESSES processes × LOOPS async loops hammer tryTake()/consume() for DURATION
 *   ms; most decisions are refusals, the realistic hot path;
 * - admitted per window: from the admissions' times in that run, the most admitted in any
 *   interval of WINDOW ms, and over-admissions = max(0, that − LIMIT). holdfast's times are its
 *   decisions' `at` (the Redis server's clock, whole ms; an admission counts with the ones less
 *   than WINDOW before it, as the sliding window itself counts); the peer reports no time, so
 *   its times are the client's receive times (wall clock, shared by the processes), which adds
 *   the round trip's and the event loops' jitter: it admits a window's LIMIT in a burst of a
 *   few ms, so a few ms of jitter reads as many over-admissions. Its notes therefore add an
 *   estimate on the server's clock (see serverTimes);
 * - decision latency: one client, sequential decisions, p50/p99;
 * - wait for a slot: the limiter is filled (LIMIT at once), then after a random delay one client
 *   waits for 1 (holdfast take(1, { wait }), the peer's RateLimiterQueue.removeTokens(1));
 *   latency = admitted − the moment a slot opened (holdfast: both on the server's clock; peer:
 *   the key's expiry estimated from the fill's round trip and PTTL, against the receive time).
 * holdfast:// (holdfast's default sliding window on the embedded server, informational) runs the
 * throughput measure only (its decisions/s and the admitted counts of that same run).
 */
import { startWorkers, stopAll } from './ipc.js';
import { LIMIT, openRateLimiter, RATE_LIBS, type RateLib, WINDOW } from './rate-libs.js';
import type { HammerCommand, HammerResult } from './rate-worker.js';
import { lanes, percentile, sleep, uniform, wallNow } from './stats.js';
import { byColumn, type Layout, type Row } from './table.js';

const PROCESSES = 2;
const LOOPS = 16;
const DURATION = 3000;
const HAMMER_WARMUP = 500;
const LATENCY_WARMUP = 300;
const LATENCY_DURATION = 1000;
const WAIT_LANES = 10;
/**
 * 100 waits in all, so that the p99 is the second slowest: of the 20 there were, the p99 was
 * the slowest, one stall of the machine.
 */
const WAIT_REPS_PER_LANE = 10;
/** Lanes start this far apart, so their slots do not all open in the same ms. */
const WAIT_STAGGER = 40;
const WAIT_MAX_DELAY = 200;
/** A fill must leave at least this long before its slot opens, or the client would call too late. */
const WAIT_MIN_REMAINING = WAIT_MAX_DELAY + 50;

/** The rate table's columns: the limiters on Redis, and holdfast's default on its embedded server. */
export const RATE_COLUMNS = ['holdfast', 'holdfast://', 'hf fixed-window', 'rate-limiter-flexible'] as const;
export type RateColumn = (typeof RATE_COLUMNS)[number];

export const RATE_LAYOUT: Layout<RateColumn> = {
  columns: RATE_COLUMNS,
  ratios: [
    { label: 'hf vs RLF', of: 'holdfast', vs: 'rate-limiter-flexible' },
    { label: 'hf fixed vs RLF', of: 'hf fixed-window', vs: 'rate-limiter-flexible' },
    { label: 'hf:// vs hf redis', of: 'holdfast://', vs: 'holdfast' },
  ],
  headers: { holdfast: 'holdfast (redis)' },
};

export const RATE_LABEL = `rate limiter ${LIMIT}/${WINDOW} ms, ${PROCESSES}×${LOOPS} loops on 1 key`;

/** The most timestamps in any half-open interval [t, t + window). */
export function maxInWindow(times: readonly number[], window: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while ((sorted[last] ?? 0) - (sorted[first] ?? 0) >= window) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/**
 * rate-limiter-flexible's admission times on the server's clock, estimated: every admission of
 * one window saw the same key expiry E, and reported its PTTL p at the decision, so the decision
 * was at E − p. E on this clock is at most receive + p (the answer arrives after the decision);
 * the smallest receive + p of a window (grouped by that value) is the estimate. Whole ms, as
 * PTTL is.
 */
export function serverTimes(received: readonly number[], expiresIn: readonly number[]): number[] {
  const items = received.map((r, i) => ({ p: expiresIn[i] ?? Number.NaN, e: r + (expiresIn[i] ?? Number.NaN) }));
  items.sort((a, b) => a.e - b.e);
  const times: number[] = [];
  let expiry = Number.NaN;
  let previous = Number.NEGATIVE_INFINITY;
  for (const { p, e } of items) {
    if (e - previous > WINDOW / 2) expiry = e;
    previous = e;
    times.push(expiry - p);
  }
  return times;
}

interface Hammered {
  readonly rate: number;
  readonly most: number;
  readonly notes: string;
}

async function hammer(lib: RateLib, url: string): Promise<Hammered> {
  const workers = await startWorkers('./rate-worker.ts', lib, url, PROCESSES);
  try {
    const command: HammerCommand = {
      cmd: 'hammer',
      key: 'hammer',
      startAt: wallNow() + 50 + HAMMER_WARMUP,
      duration: DURATION,
      loops: LOOPS,
    };
    const results = await Promise.all(workers.map((w) => w.call<HammerResult>(command)));
    const decisions = results.reduce((sum, r) => sum + r.decisions, 0);
    const admitted = results.flatMap((r) => r.admitted);
    const failures = new Map<string, number>();
    for (const r of results) {
      for (const [name, count] of Object.entries(r.failures)) failures.set(name, (failures.get(name) ?? 0) + count);
    }
    const failed = [...failures].map(([name, count]) => `${count} ${name}`).join(', ') || '0 failed';
    const peer = lib === 'rate-limiter-flexible';
    const expiresIn = results.flatMap((r) => r.expiresIn);
    // PTTL is whole ms, so differences of the estimates are within ±1 ms: counting windows of
    // WINDOW − 1 and WINDOW + 1 brackets the count.
    const times = peer ? serverTimes(admitted, expiresIn) : [];
    const serverMost = peer ? maxInWindow(times, WINDOW) : null;
    const low = maxInWindow(times, WINDOW - 1);
    const high = maxInWindow(times, WINDOW + 1);
    const clock = peer
      ? `client receive times; on server times estimated from PTTL (±1 ms): most ${serverMost} ` +
        `(${low}–${high}) in a window, ${Math.max(0, (serverMost ?? 0) - LIMIT)} over`
      : 'server `at`, whole ms';
    return {
      rate: (decisions * 1000) / DURATION,
      most: maxInWindow(admitted, WINDOW),
      notes: `${decisions} decisions, ${admitted.length} admitted (${clock}), ${failed}`,
    };
  } finally {
    await stopAll(workers);
  }
}

interface Latency {
  readonly samples: number[];
  readonly allowed: number;
}

async function latency(lib: RateLib, url: string): Promise<Latency> {
  const limiter = await openRateLimiter(lib, url);
  try {
    const warm = performance.now() + LATENCY_WARMUP;
    while (performance.now() < warm) await limiter.tryTake('latency:warm');
    const samples: number[] = [];
    let allowed = 0;
    const end = performance.now() + LATENCY_DURATION;
    while (performance.now() < end) {
      const start = performance.now();
      const decision = await limiter.tryTake('latency');
      samples.push(performance.now() - start);
      if (decision.allowed) allowed++;
    }
    return { samples, allowed };
  } finally {
    await limiter.close();
  }
}

interface Waited {
  readonly samples: number[];
  readonly failures: string[];
}

async function waitForSlot(lib: RateLib, url: string): Promise<Waited> {
  const limiter = await openRateLimiter(lib, url);
  const samples: number[] = [];
  const failures: string[] = [];
  try {
    await lanes(WAIT_LANES, async (lane) => {
      await sleep(lane * WAIT_STAGGER);
      for (let rep = 0; rep < WAIT_REPS_PER_LANE; rep++) {
        try {
          // A fixed window may be about to end: then wait for it and fill a fresh key.
          let key = `wait:${lane}:${rep}`;
          let filled = await limiter.fill(key);
          for (let again = 1; filled.remaining < WAIT_MIN_REMAINING; again++) {
            await sleep(filled.remaining + 5);
            key = `wait:${lane}:${rep}:${again}`;
            filled = await limiter.fill(key);
          }
          const { opensAt } = filled;
          await sleep(uniform(0, WAIT_MAX_DELAY));
          const { at } = await limiter.take(key);
          samples.push(at - opensAt);
        } catch (error) {
          failures.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        }
      }
    });
  } finally {
    await limiter.close();
  }
  return { samples, failures };
}

interface LibResult {
  readonly hammered: Hammered;
  /** null: not measured (holdfast://). */
  readonly latency: Latency | null;
  readonly waited: Waited | null;
}

/** `url`: the Redis server; `serverUrl`: the embedded holdfast server (holdfast://). */
export async function runRate(url: string, serverUrl: string): Promise<Row<RateColumn>[]> {
  const results = {} as Record<RateColumn, LibResult>;
  for (const lib of RATE_LIBS) {
    results[lib] = {
      hammered: await hammer(lib, url),
      latency: await latency(lib, url),
      waited: await waitForSlot(lib, url),
    };
    if (lib === 'holdfast') {
      results['holdfast://'] = { hammered: await hammer(lib, serverUrl), latency: null, waited: null };
    }
  }
  const values = <T>(f: (r: LibResult) => T): Record<RateColumn, T> =>
    byColumn(RATE_COLUMNS, (column) => f(results[column]));
  const notes = (f: (r: LibResult) => string | undefined): Partial<Record<RateColumn, string>> => {
    const all: Partial<Record<RateColumn, string>> = {};
    for (const column of RATE_COLUMNS) {
      const note = f(results[column]);
      if (note !== undefined) all[column] = note;
    }
    return all;
  };
  const latencyAt = (p: number) => (r: LibResult) => (r.latency ? percentile(r.latency.samples, p) : null);
  const waitAt = (p: number) => (r: LibResult) => (r.waited ? percentile(r.waited.samples, p) : null);
  const waitNotes = ({ waited }: LibResult): string | undefined => {
    if (waited === null) return undefined;
    const { samples, failures } = waited;
    return `${samples.length} waits, ${failures.length} failed${failures.length ? ` (${failures[0]})` : ''}`;
  };
  return [
    {
      measure: `${RATE_LABEL}: decisions/s`,
      unit: 'decisions/s',
      better: 'higher',
      values: values((r) => r.hammered.rate),
      notes: notes((r) => r.hammered.notes),
    },
    {
      measure: `${RATE_LABEL}: most admitted in any ${WINDOW} ms`,
      unit: 'count',
      better: 'none',
      values: values((r) => r.hammered.most),
    },
    {
      measure: `${RATE_LABEL}: over-admissions (most − ${LIMIT})`,
      unit: 'count',
      better: 'none',
      values: values((r) => Math.max(0, r.hammered.most - LIMIT)),
    },
    {
      measure: 'rate limiter decision latency p50 (1 client, sequential)',
      unit: 'ms',
      better: 'lower',
      values: values(latencyAt(50)),
      notes: notes((r) =>
        r.latency ? `${r.latency.samples.length} decisions, ${r.latency.allowed} admitted` : undefined,
      ),
    },
    {
      measure: 'rate limiter decision latency p99 (1 client, sequential)',
      unit: 'ms',
      better: 'lower',
      values: values(latencyAt(99)),
    },
    {
      measure: 'rate limiter wait for a slot p50 (admitted − slot opened)',
      unit: 'ms',
      better: 'lower',
      // holdfast's times are whole ms
      resolution: 1,
      values: values(waitAt(50)),
      notes: notes(waitNotes),
    },
    {
      measure: 'rate limiter wait for a slot p99 (admitted − slot opened)',
      unit: 'ms',
      better: 'lower',
      // holdfast's times are whole ms
      resolution: 1,
      values: values(waitAt(99)),
    },
  ];
}

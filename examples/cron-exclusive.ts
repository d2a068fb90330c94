/**
 * Seed 004 — the same cron job runs in several containers; on each tick exactly one instance
 * runs it and the others skip. The lock is keyed by job name + fire time, taken with a
 * non-blocking `tryAcquire`, and released with the lease's token (compare-and-delete), so an
 * instance can never free a lock another instance holds.
 */
import type { Holdfast } from '../src/index.js';

export interface CronSummary {
  readonly ticks: number;
  readonly runs: number;
  readonly skips: number;
  readonly runsPerTick: readonly number[];
  readonly ok: boolean;
}

export async function cronExclusive(instances: readonly Holdfast[], ticks = 5): Promise<CronSummary> {
  const runsPerTick: number[] = [];
  let skips = 0;
  for (let tick = 0; tick < ticks; tick++) {
    const fireTime = new Date(Date.UTC(2026, 0, 1, 3, tick)).toISOString();
    // Every instance's scheduler fires at the same moment.
    const outcomes = await Promise.all(instances.map((hf) => runTick(hf, fireTime)));
    runsPerTick.push(outcomes.filter((o) => o === 'ran').length);
    skips += outcomes.filter((o) => o === 'skipped').length;
  }
  const runs = runsPerTick.reduce((a, b) => a + b, 0);
  return { ticks, runs, skips, runsPerTick, ok: runsPerTick.every((n) => n === 1) };
}

async function runTick(hf: Holdfast, fireTime: string): Promise<'ran' | 'skipped'> {
  const lease = await hf.mutex(`job:nightly-sync:${fireTime}`, { ttl: 30_000 }).tryAcquire();
  if (!lease) return 'skipped';
  try {
    await syncJob(lease.signal);
    return 'ran';
  } finally {
    await lease.release();
  }
}

/** The job itself: a few calls that honour the lease's signal (stop if the lease is lost). */
async function syncJob(signal: AbortSignal): Promise<void> {
  for (let step = 0; step < 3; step++) {
    signal.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Timing and summary helpers shared by the measures and their worker processes. */

/**
 * High-resolution wall-clock ms. Processes on one machine agree on it (same timeOrigin base,
 * sub-ms resolution), so a timestamp taken in one process can be subtracted from another's.
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Monotonic ms on the one clock every process of the machine reads (process.hrtime: Linux's
 * CLOCK_MONOTONIC), for a time noted in one process and subtracted in another. wallNow does
 * not quite do that: each process's timeOrigin is a wall-clock reading taken at its start
 * beside a monotonic one, and a process descheduled between the two (a loaded VM) carries the
 * gap in every reading: 0.01–0.08 ms between processes started a second apart here, and once a
 * hand-off floor p50 of −3.4 ms.
 */
export function sharedNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The upper middle of `values` (sorted in place); NaN when there are none. */
export function median(values: number[]): number {
  return values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
}

/** The JIT takes about this long (ms) to settle: with less a measure's first row came out ~30% low. */
export const JIT_WARMUP = 1000;

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

/** Spins (no timers) for `ms`: the critical section's stand-in for real work. */
export function busyWork(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Uniform random in [min, max). */
export function uniform(min: number, max: number): number {
  return min + Math.random() * (max - min);
}

/** Runs `count` lanes of `fn(lane)` in parallel; resolves when all are done. */
export async function lanes(count: number, fn: (lane: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: count }, (_, lane) => fn(lane)));
}

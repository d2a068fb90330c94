/** What the primitives stress test and its worker processes agree on. */

export const RW_WORKER = new URL('./rw-worker.ts', import.meta.url);
export const RATE_WORKER = new URL('./rate-worker.ts', import.meta.url);
export const CANDIDATE = new URL('./candidate.ts', import.meta.url);

/** The plain Redis keys the read-write workers use inside their critical sections, under the run's prefix. */
export function rwKeys(prefix: string): { counter: string; readers: string; seq: string } {
  return {
    counter: `${prefix}test:counter`,
    readers: `${prefix}test:readers`,
    /** Stamps the start and end of every hold: one order for all workers (rw-worker.ts). */
    seq: `${prefix}test:seq`,
  };
}

/** Whether iteration `i` of a worker with `writeShare` (0..1) writes: evenly spread, deterministic. */
export function isWrite(i: number, writeShare: number): boolean {
  return Math.floor((i + 1) * writeShare) > Math.floor(i * writeShare);
}

/** The clock every process on this machine shares (ms, monotonic: see test/helpers/machine-clock.ts). */
export { machineNow as wallNow } from '../helpers/machine-clock.js';

/**
 * The store's backend time (whole µs of its monotonic clock) as µs since about the epoch:
 * ACQUIRE replies and wake-ups carry it, so a client can tell how long after its request a
 * hand-off happened. Anchored at the process's start, so a restarted server does not begin at zero.
 */
const ORIGIN_MICROS = Math.floor(performance.timeOrigin * 1000);

export function anchored(micros: number): number {
  return ORIGIN_MICROS + micros;
}

/**
 * The time source of a client. Real code uses `realClock`; the memory backend can run on a
 * `FakeClock` (from `holdfast/testing`) so tests of TTLs take no real time.
 */
export interface Clock {
  /** Monotonic milliseconds (fractional). Never goes back, keeps running while the process is stopped. */
  now(): number;
  /** Wall-clock microseconds since the epoch, used to seed fences after data loss. */
  wallMicros(): number;
  /**
   * Runs `fn` once after `ms`. The timer does not keep the process alive unless `keepAlive`
   * (used for a caller's own deadline, such as `acquire({ wait })`, which must fire).
   */
  setTimer(fn: () => void, ms: number, keepAlive?: boolean): Timer;
}

export interface Timer {
  cancel(): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  wallMicros: () => Math.floor((performance.timeOrigin + performance.now()) * 1000),
  setTimer(fn, ms, keepAlive = false) {
    const handle = setTimeout(fn, Math.max(0, ms));
    if (!keepAlive) handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

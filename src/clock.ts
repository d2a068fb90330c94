/**
 * The time source of a client. Real code uses `realClock`; the memory backend can run on a
 * `FakeClock` (from `holdfast/testing`) so tests of TTLs take no real time.
 */
export interface Clock {
  /** Monotonic milliseconds (fractional). Never goes back, keeps running while the process is stopped. */
  now(): number;
  /** Wall-clock microseconds since the epoch, used to seed fences after data loss. */
  wallMicros(): number;
  /** Runs `fn` once after `ms`; the timer never keeps the process alive. */
  setTimer(fn: () => void, ms: number): Timer;
}

export interface Timer {
  cancel(): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  wallMicros: () => Math.floor((performance.timeOrigin + performance.now()) * 1000),
  setTimer(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

/**
 * Waiting in tests without asserting on timing: wait for an event with a generous deadline
 * (a hang becomes a failure that names what was awaited), or poll a condition that has no event.
 * All deadlines are in real time, so they work the same on a fake clock.
 */

/** Resolves or rejects like `promise`, or rejects after `ms` with a message naming `what`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface WaitForOptions {
  /** Real ms before giving up; default 5000. */
  readonly timeout?: number;
  /** Real ms between checks; default 10. */
  readonly interval?: number;
  /** Named in the error on timeout. */
  readonly what?: string;
}

/** Polls `predicate` until it returns true; for conditions that no event announces. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  options: WaitForOptions = {},
): Promise<void> {
  const { timeout = 10_000, interval = 10, what = 'a condition' } = options;
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/**
 * Whether `promise` has settled, checked after the microtask queue and one macrotask turn
 * drained. Marks a rejection as handled, so a pending promise can be probed safely.
 */
export function settled(promise: Promise<unknown>): Promise<boolean> {
  const done = promise.then(
    () => true,
    () => true,
  );
  const turn = new Promise<boolean>((resolve) => setImmediate(() => resolve(false)));
  return Promise.race([done, turn]);
}

/** Resolves with the signal's reason once it aborts (at once if it already has). */
export function aborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) => {
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}

/** Real-time sleep; only for worlds that run on the real clock. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One-off exclusive jobs (seed 004): run it if nobody else is, otherwise say so. */
import type { Holdfast } from '../client.js';
import type { Lease } from '../engine/lease.js';
import { LockTimeoutError } from '../errors.js';
import { runHolding } from '../primitives/fixed-lock.js';
import { checkMs, checkName, checkOptions, optional } from '../util/validate.js';
import { checkClient, checkFunction } from './common.js';

export interface RunExclusiveOptions {
  /** Lease TTL in ms (default 10 000), renewed while `fn` runs. */
  readonly ttl?: number;
  /**
   * ms to wait in line for the lock (FIFO). Omitted: no waiting at all, one `tryAcquire` —
   * if someone holds it (or waits for it), the job does not run.
   */
  readonly wait?: number;
}

/** What `runExclusive` did: ran `fn` and got `value`, or did not run it because it was taken. */
export type RunExclusiveResult<T> = { readonly ran: true; readonly value: T } | { readonly ran: false };

/**
 * Runs `fn` while holding the mutex `name`, then releases it; resolves `{ ran: false }` without
 * running when the mutex is taken (or, with `wait`, still taken after `wait` ms).
 *
 * - `fn` gets the lease: check `lease.signal` / `lease.valid` in long jobs, since a lease can be
 *   lost (a stalled process, a lost connection) while `fn` still runs.
 * - Errors of `fn` reject (after the release); backend failures reject with `BackendError`.
 * - For the same job at every tick of a cron, use `schedule`: it keeps each tick's lock until
 *   its TTL, so a late instance cannot run the tick again after this one released it.
 * - Bad input rejects with `ValidationError` before any I/O.
 */
export async function runExclusive<T>(
  hf: Holdfast,
  name: string,
  fn: (lease: Lease) => Promise<T> | T,
  options?: RunExclusiveOptions,
): Promise<RunExclusiveResult<T>> {
  const client = checkClient(hf);
  checkName(name);
  checkFunction(fn, 'fn');
  const raw = checkOptions<RunExclusiveOptions>(options, ['ttl', 'wait'], 'runExclusive options');
  const ttl = optional(raw.ttl, (v) => checkMs(v, 'ttl'));
  const wait = optional(raw.wait, (v) => checkMs(v, 'wait'));
  const mutex = client.mutex(name, ttl === undefined ? {} : { ttl });
  const lease = wait === undefined ? await mutex.tryAcquire() : await acquireOrNull(mutex.acquire({ wait }));
  if (lease === null) return { ran: false };
  return { ran: true, value: await runHolding(lease, fn) };
}

async function acquireOrNull(acquiring: Promise<Lease>): Promise<Lease | null> {
  try {
    return await acquiring;
  } catch (error) {
    if (error instanceof LockTimeoutError) return null;
    throw error;
  }
}

/**
 * Exclusive cron schedules (seed 004): every instance runs the same schedule, and for each fire
 * time exactly one of them runs the job. The others skip it.
 */
import { Cron } from 'croner';
import type { Holdfast } from '../client.js';
import type { Lease } from '../engine/lease.js';
import { LeaseLostError, ValidationError } from '../errors.js';
import { checkMs, checkName, checkOptions, MAX_MS, optional } from '../util/validate.js';
import { checkClient, checkFunction } from './common.js';

/** The job: gets the tick's lease (renewed while it runs) and the fire time it runs for. */
export type ScheduledFn = (lease: Lease, fireTime: Date) => Promise<void> | void;

/** Why an instance skipped a tick: another instance has it, or this one fired it too late. */
export type SkipReason = 'taken' | 'late';

export interface ScheduleOptions {
  /**
   * ms the tick's lock lives, counted from the winner's last renewal (default 60 000). It must
   * exceed the largest lateness between instances (clock skew plus timer and event-loop delays):
   * an instance that fires a tick later than that can no longer see that it already ran.
   */
  readonly ttl?: number;
  /** IANA time zone the cron expression is read in (default: the process's local zone). */
  readonly timezone?: string;
  /** This instance won `fireTime` and is about to run the job. */
  readonly onRun?: (fireTime: Date) => void;
  /** This instance did not run `fireTime`: another instance has it, or it fired too late. */
  readonly onSkip?: (fireTime: Date, reason: SkipReason) => void;
  /**
   * The job threw, the backend failed, the lease was lost while the job ran, or a hook threw
   * (default: a process warning). Never an unhandled rejection, never thrown from a timer.
   */
  readonly onError?: (error: unknown, fireTime: Date) => void;
}

export const DEFAULT_SCHEDULE_TTL = 60_000;

const OPTION_KEYS = ['ttl', 'timezone', 'onRun', 'onSkip', 'onError'] as const;

/** @internal What one instance needs to handle one tick. */
export interface Tick {
  readonly hf: Holdfast;
  readonly name: string;
  readonly ttl: number;
  readonly fn: ScheduledFn;
  readonly onRun: (fireTime: Date) => void;
  readonly onSkip: (fireTime: Date, reason: SkipReason) => void;
  readonly onError: (error: unknown, fireTime: Date) => void;
}

/** @internal */
export type TickOutcome = 'ran' | 'skipped' | 'failed';

/** The lock of one tick: the job's name and the fire time, so each tick is won separately. */
export function tickLockName(name: string, fireTime: Date): string {
  return `${name}@${fireTime.toISOString()}`;
}

/**
 * Runs `fn` at every fire time of `cronExpression` (5, 6 or 7 fields, as `croner` reads them),
 * on exactly one of the instances that schedule the same `name` on the same backend.
 *
 * At each fire time every instance tries the mutex `<name>@<fire time ISO>` once, without
 * waiting. The winner runs `fn` with the lease (auto-renewed); when `fn` settles it *detaches*
 * the lease instead of releasing it, so the tick stays taken for `ttl` more ms: an instance
 * whose timer fires the same tick late then finds it taken and skips. The others call
 * `onSkip(fireTime, 'taken')`. An instance that fires more than `ttl` ms after the fire time
 * skips with `'late'`, since it could no longer tell whether the tick ran.
 *
 * - A failed run is not retried by another instance: the tick stays taken.
 * - Runs of consecutive ticks may overlap when `fn` takes longer than the interval.
 * - Ticks missed while the process was stalled or down are not caught up.
 * - The job's timer does not keep the process alive (no holdfast timer does): a Redis client's
 *   connection does, until `hf.close()`; on `memory://` keep the process alive yourself. The
 *   job stops by itself at its next fire time once `hf` is closed.
 * - Bad input (including an invalid cron expression or time zone) throws `ValidationError`.
 */
export function schedule(
  hf: Holdfast,
  name: string,
  cronExpression: string,
  fn: ScheduledFn,
  options?: ScheduleOptions,
): ScheduledJob {
  const client = checkClient(hf);
  checkName(name);
  checkFunction(fn, 'fn');
  const raw = checkOptions<ScheduleOptions>(options, OPTION_KEYS, 'schedule options');
  const ttl = optional(raw.ttl, (v) => checkMs(v, 'ttl')) ?? DEFAULT_SCHEDULE_TTL;
  // Refuses a name too long once the fire time is appended, now rather than at the first tick.
  client.mutex(tickLockName(name, new Date(0)), { ttl });
  const cron = parseCron(cronExpression, optional(raw.timezone, checkTimezone));
  const onError = optional(raw.onError, (v) => checkFunction<Tick['onError']>(v, 'onError'));
  const tick: Tick = {
    hf: client,
    name,
    ttl,
    fn,
    onRun: optional(raw.onRun, (v) => checkFunction<Tick['onRun']>(v, 'onRun')) ?? (() => {}),
    onSkip: optional(raw.onSkip, (v) => checkFunction<Tick['onSkip']>(v, 'onSkip')) ?? (() => {}),
    onError: onError ?? ((error, fireTime) => warn(name, error, fireTime)),
  };
  return new ScheduledJob(cron, tick);
}

function parseCron(expression: unknown, timezone: string | undefined): Cron {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new ValidationError('cronExpression must be a non-empty string');
  }
  const shown = JSON.stringify(expression);
  let cron: Cron;
  let first: Date | null;
  try {
    cron = new Cron(expression, timezone === undefined ? {} : { timezone });
    // croner reads the time zone only when it computes a date.
    first = cron.nextRun();
  } catch (error) {
    throw new ValidationError(`invalid cron expression ${shown} or time zone: ${messageOf(error)}`);
  }
  // croner also takes a date for a one-off run; a schedule wants a pattern.
  if (cron.getPattern() === undefined) throw new ValidationError(`cronExpression must be a cron pattern, got ${shown}`);
  if (first === null) throw new ValidationError(`cron expression ${shown} never fires`);
  return cron;
}

function checkTimezone(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new ValidationError('timezone must be a non-empty string');
  return value;
}

/** A running schedule of one instance. Create it with `schedule()`. */
export class ScheduledJob {
  readonly name: string;
  readonly #cron: Cron;
  readonly #tick: Tick;
  readonly #running = new Set<Promise<TickOutcome>>();
  #timer: NodeJS.Timeout | undefined;
  #next: Date | null = null;
  #stopped = false;

  /** @internal use `schedule()`. */
  constructor(cron: Cron, tick: Tick) {
    this.name = tick.name;
    this.#cron = cron;
    this.#tick = tick;
    this.#arm(new Date());
  }

  /** The next fire time this instance will try, or null once stopped (or the pattern has no more). */
  nextRun(): Date | null {
    return this.#stopped ? null : this.#next;
  }

  /**
   * Fires no more ticks. Resolves once the runs in progress on this instance have finished
   * (never rejects); they keep their leases until then.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#next = null;
    await Promise.allSettled([...this.#running]);
  }

  #arm(after: Date): void {
    this.#next = this.#cron.nextRun(after);
    if (this.#next !== null) this.#wait(this.#next);
  }

  #wait(at: Date): void {
    // Long delays are split: Node's timers cannot wait more than 2^31-1 ms.
    const delay = Math.min(Math.max(0, at.getTime() - Date.now()), MAX_MS);
    this.#timer = setTimeout(() => this.#wake(at), delay);
    this.#timer.unref();
  }

  #wake(at: Date): void {
    if (this.#stopped) return;
    if (this.#tick.hf.closed) {
      void this.stop();
      return;
    }
    if (Date.now() < at.getTime()) {
      this.#wait(at); // a split delay, or a timer a little ahead of the wall clock
      return;
    }
    const run = runTick(this.#tick, at);
    this.#running.add(run);
    void run.then(() => this.#running.delete(run));
    // After a stall, go on from now: the ticks missed meanwhile were other instances' to run.
    this.#arm(new Date(Math.max(Date.now(), at.getTime())));
  }
}

/**
 * @internal One instance's handling of one fire time, as the scheduler's timer calls it (tests
 * call it directly to play an instance that fires late). Never rejects: every failure goes to
 * `tick.onError`.
 */
export async function runTick(tick: Tick, fireTime: Date, now: number = Date.now()): Promise<TickOutcome> {
  if (now - fireTime.getTime() >= tick.ttl) return skip(tick, fireTime, 'late');
  let lease: Lease | null;
  try {
    lease = await tick.hf.mutex(tickLockName(tick.name, fireTime), { ttl: tick.ttl }).tryAcquire();
  } catch (error) {
    report(tick, error, fireTime);
    return 'failed';
  }
  if (lease === null) return skip(tick, fireTime, 'taken');
  notify(tick, fireTime, () => tick.onRun(fireTime));
  try {
    await tick.fn(lease, fireTime);
    const reason: unknown = lease.signal.reason;
    if (reason instanceof LeaseLostError) throw reason;
    return 'ran';
  } catch (error) {
    report(tick, error, fireTime);
    return 'failed';
  } finally {
    // Not release(): the tick stays taken until its TTL, so a late instance skips it.
    lease.detach();
  }
}

function skip(tick: Tick, fireTime: Date, reason: SkipReason): 'skipped' {
  notify(tick, fireTime, () => tick.onSkip(fireTime, reason));
  return 'skipped';
}

/** Calls a hook; what it throws goes to onError and never stops the tick. */
function notify(tick: Tick, fireTime: Date, hook: () => void): void {
  try {
    hook();
  } catch (error) {
    report(tick, error, fireTime);
  }
}

function report(tick: Tick, error: unknown, fireTime: Date): void {
  try {
    tick.onError(error, fireTime);
  } catch (failure) {
    warn(tick.name, failure, fireTime);
  }
}

function warn(name: string, error: unknown, fireTime: Date): void {
  process.emitWarning(`schedule "${name}" at ${fireTime.toISOString()}: ${messageOf(error)}`, 'HoldfastWarning');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Seed 004 with the `schedule` recipe: three instances run the same every-second cron. At each
 * fire time exactly one of them runs the job; the other two report that they skipped it.
 */
import type { Holdfast } from '../src/index.js';
import { type ScheduledJob, schedule } from '../src/recipes/index.js';

export interface NightlySyncSummary {
  /** Fire times that every instance handled (the first may catch only some instances). */
  readonly ticks: number;
  readonly runsPerTick: readonly number[];
  readonly skipsPerTick: readonly number[];
  readonly errors: readonly string[];
  readonly ok: boolean;
}

interface Tally {
  runs: number;
  skips: number;
}

export async function nightlySync(instances: readonly Holdfast[], ticks = 3): Promise<NightlySyncSummary> {
  const tallies = new Map<string, Tally>();
  const errors: string[] = [];
  const tally = (fireTime: Date): Tally => {
    const key = fireTime.toISOString();
    const entry = tallies.get(key) ?? { runs: 0, skips: 0 };
    tallies.set(key, entry);
    return entry;
  };
  const complete = (): Tally[] => [...tallies.values()].filter((t) => t.runs + t.skips === instances.length);
  let enough!: () => void;
  const done = new Promise<void>((resolve) => {
    enough = resolve;
  });
  const check = (): void => {
    if (complete().length >= ticks) enough();
  };
  const jobs: ScheduledJob[] = instances.map((hf) =>
    schedule(hf, 'nightly-sync', '* * * * * *', (lease) => syncJob(lease.signal), {
      ttl: 10_000,
      onRun: (fireTime) => {
        tally(fireTime).runs++;
        check();
      },
      onSkip: (fireTime) => {
        tally(fireTime).skips++;
        check();
      },
      onError: (error) => void errors.push(String(error)),
    }),
  );
  // A deadline, and (unlike holdfast's own timers) something that keeps the process alive.
  let deadline: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    deadline = setTimeout(resolve, (ticks + 3) * 1000);
  });
  await Promise.race([done, timeout]);
  clearTimeout(deadline);
  await Promise.all(jobs.map((job) => job.stop()));
  const handled = complete().slice(0, ticks);
  const runsPerTick = handled.map((t) => t.runs);
  const skipsPerTick = handled.map((t) => t.skips);
  const neverTwice = [...tallies.values()].every((t) => t.runs <= 1);
  const ok = handled.length === ticks && runsPerTick.every((n) => n === 1) && neverTwice && errors.length === 0;
  return { ticks: handled.length, runsPerTick, skipsPerTick, errors, ok };
}

/** The job itself: a few calls that stop if the lease is lost. */
async function syncJob(signal: AbortSignal): Promise<void> {
  for (let step = 0; step < 3; step++) {
    signal.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

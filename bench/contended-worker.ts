/**
 * One of the contending processes of measure 2 (started by contended.ts): from `startAt` for
 * `duration` ms it loops acquire → `busy` ms of work → release → `gap` ms of other (async) work
 * on one key, and reports what each acquire waited.
 */
import { type Command, serveWorker } from './ipc.js';
import { busyWork, sleep, wallNow } from './stats.js';

export interface RunCommand extends Command {
  readonly cmd: 'run';
  readonly key: string;
  /** Wall-clock ms (see wallNow) at which every worker starts. */
  readonly startAt: number;
  readonly duration: number;
  /** ms of busy work while holding. */
  readonly busy: number;
  /** ms of other work between a release and the next acquire (a timer: the event loop is free); 0: none. */
  readonly gap: number;
}

export interface RunResult {
  /** Acquires granted inside the window. */
  readonly ops: number;
  /** Acquires the library gave up on inside the window, by error name. */
  readonly failures: Record<string, number>;
  /** ms from calling acquire to holding, for each acquire granted inside the window. */
  readonly waits: number[];
}

serveWorker(async (command, locker): Promise<RunResult> => {
  const { key, startAt, duration, busy, gap } = command as RunCommand;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - wallNow())));
  const end = startAt + duration;
  const waits: number[] = [];
  const failures: Record<string, number> = {};
  while (wallNow() < end) {
    const asked = wallNow();
    let release: () => Promise<void>;
    try {
      release = await locker.acquire(key);
    } catch (error) {
      const name = error instanceof Error ? error.name : 'unknown';
      if (wallNow() <= end) failures[name] = (failures[name] ?? 0) + 1;
      continue;
    }
    const held = wallNow();
    // An acquire still waiting when the window closed is not counted (this slightly favours
    // the library with the longest waits).
    if (held <= end) waits.push(held - asked);
    busyWork(busy);
    await release();
    if (gap > 0) await sleep(gap);
  }
  return { ops: waits.length, failures, waits };
});

/**
 * One of the contending processes of measure 2 (started by contended.ts): from `startAt` for
 * `duration` ms, `tasks` async loops each go acquire → critical section → release → acquire
 * again on one key, and report what each acquire waited. The critical section is
 * `roundTrips` Redis round trips on a connection of this process to `workUrl` (a GET, then a
 * SET of the value + 1 on a counter: a read-modify-write that loses updates unless the lock
 * excludes), so the lock guards real I/O, as it would in an application.
 */
import { Redis } from 'ioredis';
import { type Command, serveWorker } from './ipc.js';
import { sharedNow } from './stats.js';

export interface RunCommand extends Command {
  readonly cmd: 'run';
  readonly key: string;
  /** ms on the machine's shared monotonic clock (sharedNow) at which every worker starts. */
  readonly startAt: number;
  readonly duration: number;
  readonly tasks: number;
  /** Redis round trips inside the critical section (even: GET + SET pairs). */
  readonly roundTrips: number;
  /** The Redis the critical section talks to, and the counter it increments there. */
  readonly workUrl: string;
  readonly counter: string;
}

export interface RunResult {
  /** Acquires granted inside the window, per task. */
  readonly ops: number[];
  /** Acquires the library gave up on inside the window, by error name. */
  readonly failures: Record<string, number>;
  /** ms from calling acquire to holding, for each acquire granted inside the window. */
  readonly waits: number[];
  /** Critical sections completed (the counter should have grown by the sum over processes). */
  readonly sections: number;
}

let work: Redis | undefined;

serveWorker(async (command, locker): Promise<RunResult> => {
  const { key, startAt, duration, tasks, roundTrips, workUrl, counter } = command as RunCommand;
  work ??= new Redis(workUrl);
  const redis = work;
  await redis.ping();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - sharedNow())));
  const end = startAt + duration;
  const waits: number[] = [];
  const failures: Record<string, number> = {};
  const ops = Array.from({ length: tasks }, () => 0);
  let sections = 0;
  const task = async (index: number): Promise<void> => {
    while (sharedNow() < end) {
      const asked = sharedNow();
      let release: () => Promise<void>;
      try {
        release = await locker.acquire(key);
      } catch (error) {
        const name = error instanceof Error ? error.name : 'unknown';
        if (sharedNow() <= end) failures[name] = (failures[name] ?? 0) + 1;
        continue;
      }
      const held = sharedNow();
      // An acquire still waiting when the window closed is not counted (this slightly favours
      // the library with the longest waits).
      if (held <= end) {
        waits.push(held - asked);
        ops[index] = (ops[index] ?? 0) + 1;
      }
      for (let i = 0; i < roundTrips; i += 2) {
        const value = Number((await redis.get(counter)) ?? 0);
        await redis.set(counter, value + 1);
      }
      sections++;
      await release();
    }
  };
  await Promise.all(ops.map((_, index) => task(index)));
  return { ops, failures, waits, sections };
});

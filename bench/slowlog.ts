/**
 * Redis's own time for single commands, from SLOWLOG on the bench's private Redis: its
 * threshold set to 0 so every command is logged, put back after (scale.ts, handoff-script-time.ts).
 */
import type { Redis } from 'ioredis';

/** One entry of SLOWLOG GET: its id, when (unix s), the µs it took, the command and its arguments. */
export type SlowlogEntry = [id: number, at: number, micros: number, args: string[]];

/** Logs every command from now on; the function returned puts the threshold back as it was. */
export async function logEveryCommand(admin: Redis): Promise<() => Promise<void>> {
  const [, threshold] = (await admin.config('GET', 'slowlog-log-slower-than')) as [string, string];
  await admin.config('SET', 'slowlog-log-slower-than', '0');
  return async () => {
    await admin.config('SET', 'slowlog-log-slower-than', threshold);
  };
}

/** The newest `count` entries, newest first. */
export async function slowlogEntries(admin: Redis, count: number): Promise<SlowlogEntry[]> {
  return (await admin.slowlog('GET', count)) as SlowlogEntry[];
}

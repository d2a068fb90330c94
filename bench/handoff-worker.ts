/**
 * A process of measure 3 (started by handoff.ts), holder or waiter depending on the command:
 * - `hold key`: acquire and keep it; `release key delay`: after `delay` ms, note t0 and release.
 * - `wait key`: start a blocking acquire and answer at once; `acquired key`: answer with t1,
 *   noted the moment that acquire resolved (then it releases).
 */
import { type Acquired, Waits } from './handoff-protocol.js';
import { type Command, serveWorker } from './ipc.js';
import type { Release } from './libs.js';
import { sharedNow, sleep } from './stats.js';

const held = new Map<string, Release>();
const waiting = new Waits();

serveWorker(async (command, locker) => {
  const key = String(command.key);
  switch (command.cmd) {
    case 'hold':
      held.set(key, await locker.acquire(key));
      return null;
    case 'release': {
      const release = held.get(key);
      if (release === undefined) throw new Error(`not holding ${key}`);
      held.delete(key);
      await sleep(Number(command.delay));
      const t0 = sharedNow();
      await release();
      return t0;
    }
    case 'wait':
      waiting.start(key, startWaiting(key, locker.acquire(key)));
      return null;
    case 'acquired':
      return waiting.take(key);
    default:
      throw new Error(`unknown command ${(command as Command).cmd}`);
  }
});

function startWaiting(key: string, acquiring: Promise<Release>): Promise<Acquired> {
  return acquiring.then(
    async (release) => {
      const t1 = sharedNow();
      await release();
      return { t1 };
    },
    (error: unknown) => ({ t1: null, error: `${key}: ${error instanceof Error ? error.name : String(error)}` }),
  );
}

/**
 * The crashed holder of measure 4 (started by expiry.ts, for every library). A lease left
 * unreleased in a live process is freed by its own deadline timer (and a dropped connection
 * reconnects by itself), so the crash is real: this process takes keys on request, then
 * expiry.ts SIGKILLs it. The OS closes its connections; nothing is released, and the backend
 * keeps the locks until their TTL.
 * - `take key ttl`: acquires `key` for `ttl` ms without renewal, and answers with the best
 *   estimate of when the server's TTL runs out (acquire round-trip midpoint + ttl, on the machine's shared monotonic clock: sharedNow).
 */
import { type Command, serveWorker } from './ipc.js';
import type { Release } from './libs.js';
import { sharedNow } from './stats.js';

export interface TakeCommand extends Command {
  readonly cmd: 'take';
  readonly key: string;
  readonly ttl: number;
}

// Kept referenced, so nothing is ever garbage: the process dies holding them.
const held: Release[] = [];

serveWorker(async (command, locker): Promise<number> => {
  if (command.cmd !== 'take') throw new Error(`unknown command ${command.cmd}`);
  const { key, ttl } = command as TakeCommand;
  const sent = sharedNow();
  held.push(await locker.acquire(key, { ttl, renew: false }));
  return (sent + sharedNow()) / 2 + ttl;
});

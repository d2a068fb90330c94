/**
 * The crashed holder of measure 4 (started by expiry.ts, for every library). A lease left
 * unreleased in a live process is freed by its own deadline timer (and a dropped connection
 * reconnects by itself), so the crash is real: this process takes keys on request, then
 * expiry.ts SIGKILLs it. The OS closes its connections; nothing is released, and the backend
 * keeps the locks until their TTL.
 * - `take key ttl`: acquires `key` for `ttl` ms without renewal, and answers with the best
 *   estimate of when the server's TTL runs out (acquire round-trip midpoint + ttl, on the machine's shared monotonic clock: sharedNow).
 *   The process first takes and frees a throwaway key WARM_CYCLES times: the first commands of a
 *   new process and connection take ms where warm ones take ~0.2, and the midpoint of a slow
 *   round trip is as far off as half of it, either way.
 */
import { type Command, serveWorker } from './ipc.js';
import type { Locker, Release } from './libs.js';
import { sharedNow } from './stats.js';

export interface TakeCommand extends Command {
  readonly cmd: 'take';
  readonly key: string;
  readonly ttl: number;
}

const WARM_CYCLES = 20;

// Kept referenced, so nothing is ever garbage: the process dies holding them.
const held: Release[] = [];
let warmed: Promise<void> | null = null;

async function warm(locker: Locker, key: string): Promise<void> {
  for (let i = 0; i < WARM_CYCLES; i++) await (await locker.acquire(`${key}:warm`, { renew: false }))();
}

serveWorker(async (command, locker): Promise<number> => {
  if (command.cmd !== 'take') throw new Error(`unknown command ${command.cmd}`);
  const { key, ttl } = command as TakeCommand;
  warmed ??= warm(locker, key);
  await warmed;
  const sent = sharedNow();
  held.push(await locker.acquire(key, { ttl, renew: false }));
  return (sent + sharedNow()) / 2 + ttl;
});

/**
 * What this machine and this Redis allow at best, measured on the same private Redis in the same
 * run, so a missed target shows whether holdfast is slow or the target lies past what any lock of
 * its design could reach here:
 * - a Redis round trip (PING, 1 client sequential, hot): acquire+release is two of them;
 * - a round trip of the emptiest script (EVALSHA of `return 1` with an acquire's 16 keys and
 *   arguments): what every script-based lock pays at least, before its script does anything;
 * - a round trip to the embedded server (PING on its RESP port), the sequential floor there;
 * - Redis's own time for the empty script and for holdfast's two scripts (INFO commandstats).
 * All are measured inside the uncontended rounds, taking turns with the libraries
 * (uncontended.ts: `roundTripOps`), so a spell of load falls on floor and rows alike; holdfast's
 * script time is read while its own sequential row runs.
 * Ceilings derived from these (and from the rows) are printed beside the targets (targets.ts).
 */

import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';

export interface ScriptTimes {
  /** µs of Redis time (EVALSHA) of one call of the empty script: the script's run, not the transport. */
  readonly emptyScriptTime: number;
  /** µs of Redis time per holdfast acquire+release (the two scripts), 1 client sequential. */
  readonly holdfastScripts: number;
}

/**
 * Every floor: `roundTrip` (a PING), `scriptRoundTrip` (EVALSHA `return 1` with 4 keys and 12
 * arguments) and `embeddedRoundTrip` (a PING to the embedded server) in µs per round trip, 1
 * client sequential, and Redis's own time for scripts.
 */
export type Floors = RoundTrips & ScriptTimes;

/** The round trips timed beside the libraries (uncontended.ts), µs each, 1 client sequential. */
export interface RoundTrips {
  readonly roundTrip: number;
  readonly scriptRoundTrip: number;
  readonly embeddedRoundTrip: number;
}

/** One round trip of each kind that `RoundTrips` times, each on a connection of its own. */
export interface RoundTripOps {
  readonly ping: () => Promise<unknown>;
  readonly emptyScript: () => Promise<unknown>;
  readonly embeddedPing: () => Promise<unknown>;
  close(): void;
}

export async function roundTripOps(url: string, embeddedUrl: string): Promise<RoundTripOps> {
  const redis = new Redis(url);
  const scripted = new Redis(url);
  // The embedded server has no INFO, which ioredis's ready check sends.
  const embedded = new Redis(embeddedUrl.replace(/^holdfast:/, 'redis:'), { enableReadyCheck: false });
  await Promise.all([redis.ping(), scripted.ping(), embedded.ping()]);
  return {
    ping: () => redis.ping(),
    emptyScript: () => emptyScript(scripted),
    embeddedPing: () => embedded.ping(),
    close: () => {
      for (const client of [redis, scripted, embedded]) client.disconnect();
    },
  };
}

const EMPTY_SCRIPT = 'return 1';
const EMPTY_SHA = createHash('sha1').update(EMPTY_SCRIPT).digest('hex');
/** Keys and arguments the size of holdfast's acquire (acquire.lua): 4 keys, 12 arguments. */
const ACQUIRE_ARGS = [
  'p{n}:h',
  'p{n}:q',
  'p{n}:w',
  'p{n}:d',
  'p',
  'n',
  'x'.repeat(22),
  1,
  1,
  10_000,
  1,
  30_000,
  'client-id',
  '',
  'mutex',
  10_000,
];

/** The emptiest script, sent with as many keys and arguments as holdfast's acquire. */
function emptyScript(client: Redis): Promise<unknown> {
  // The first call meets NOSCRIPT and loads it (as holdfast's own scripts do).
  return client.evalsha(EMPTY_SHA, 4, ...ACQUIRE_ARGS).catch(() => client.eval(EMPTY_SCRIPT, 4, ...ACQUIRE_ARGS));
}

/** Total µs Redis spent in EVALSHA so far (a script's own calls are inside that time). */
export async function evalshaMicros(admin: Redis): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(/cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(stats)?.[1] ?? Number.NaN);
}

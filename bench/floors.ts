/**
 * What this machine and this Redis allow at best, measured on the same private Redis in the same
 * run, so a missed target shows whether holdfast is slow or the target lies past what any lock of
 * its design could reach here:
 * - a Redis round trip (PING, 1 client sequential, hot): acquire+release is two of them;
 * - a round trip of the emptiest script (EVALSHA of `return 1` with an acquire's 16 keys and
 *   arguments): what every script-based lock pays at least, before its script does anything;
 * - an acquire+release of the leanest pair of scripts we could write that keeps holdfast's
 *   contract on a free name (lean-lock/*.lua): the least we found a lock of that contract to
 *   pay, against a peer whose acquire is a plain SET with no script;
 * - the same pair at 64 in parallel, each name its own, each script its own EVALSHA: Redis's CPU
 *   per acquire+release, the least a lock of that contract costs Redis's one core unbatched
 *   (uncontended.ts, timed in the rounds of the 64-in-parallel row);
 * - a round trip to the embedded server (PING on its RESP port), the sequential floor there;
 * - Redis's own time for the empty script and for holdfast's two scripts (INFO commandstats).
 * All are timed in alternation with the libraries' sequential rows (sequential.ts), so a spell
 * of load falls on floor and rows alike; holdfast's script time is read while its own sequential
 * row runs.
 * Ceilings derived from these (and from the rows) are printed beside the targets (targets.ts).
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

export interface ScriptTimes {
  /** µs of Redis time (EVALSHA) of one call of the empty script: the script's run, not the transport. */
  readonly emptyScriptTime: number;
  /** µs of Redis time per holdfast acquire+release (the two scripts), 1 client sequential. */
  readonly holdfastScripts: number;
}

/**
 * Every floor: `roundTrip` (a PING), `scriptRoundTrip` (EVALSHA `return 1` with 4 keys and 12
 * arguments) and `embeddedRoundTrip` (a PING to the embedded server) in µs per round trip,
 * `leanPair` in µs per acquire+release, 1 client sequential, and Redis's own time for scripts.
 */
export type Floors = RoundTrips & ScriptTimes & ParallelFloors;

/** Measured in the 64-in-parallel rounds (uncontended.ts). */
export interface ParallelFloors {
  /** µs of Redis CPU per acquire+release of the lean scripts, 64 names in parallel, unbatched. */
  readonly leanParallelCpu: number;
}

/** The round trips timed beside the libraries (sequential.ts), µs each, 1 client sequential. */
export interface RoundTrips {
  readonly roundTrip: number;
  readonly scriptRoundTrip: number;
  readonly embeddedRoundTrip: number;
  /** µs per acquire+release of the lean scripts (two round trips). */
  readonly leanPair: number;
}

/** One round trip of each kind that `RoundTrips` times, each on a connection of its own. */
export interface RoundTripOps {
  readonly ping: () => Promise<unknown>;
  readonly emptyScript: () => Promise<unknown>;
  readonly leanPair: () => Promise<unknown>;
  readonly embeddedPing: () => Promise<unknown>;
  close(): void;
}

export async function roundTripOps(url: string, embeddedUrl: string): Promise<RoundTripOps> {
  const redis = new Redis(url);
  const scripted = new Redis(url);
  const lean = new Redis(url);
  // The embedded server has no INFO, which ioredis's ready check sends.
  const embedded = new Redis(embeddedUrl.replace(/^holdfast:/, 'redis:'), { enableReadyCheck: false });
  await Promise.all([redis.ping(), scripted.ping(), lean.ping(), embedded.ping()]);
  let tokens = 0;
  return {
    ping: () => redis.ping(),
    emptyScript: () => emptyScript(scripted),
    leanPair: () => leanPair(lean, `lean-${++tokens}`),
    embeddedPing: () => embedded.ping(),
    close: () => {
      for (const client of [redis, scripted, lean, embedded]) client.disconnect();
    },
  };
}

/** A script the floors send, by SHA, and by its source the first time (NOSCRIPT). */
export interface FloorScript {
  readonly source: string;
  readonly sha: string;
}

function floorScript(source: string): FloorScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

function runFloorScript(
  client: Redis,
  script: FloorScript,
  keyCount: number,
  args: readonly (string | number)[],
): Promise<unknown> {
  // The first call meets NOSCRIPT and loads the script (as holdfast's own scripts do).
  return client.evalsha(script.sha, keyCount, ...args).catch(() => client.eval(script.source, keyCount, ...args));
}

const EMPTY_SCRIPT = floorScript('return 1');
/** Keys and arguments the size of holdfast's acquire (acquire.lua): 4 keys, 12 arguments. */
const ACQUIRE_ARGS: readonly (string | number)[] = [
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
  return runFloorScript(client, EMPTY_SCRIPT, 4, ACQUIRE_ARGS);
}

/** Total µs Redis spent in EVALSHA so far (a script's own calls are inside that time). */
export async function evalshaMicros(admin: Redis): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(/cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(stats)?.[1] ?? Number.NaN);
}

function leanScript(file: string): FloorScript {
  return floorScript(readFileSync(new URL(`./lean-lock/${file}`, import.meta.url), 'utf8'));
}

export const LEAN_ACQUIRE = leanScript('acquire.lua');
export const LEAN_RELEASE = leanScript('release.lua');
/** The lean lock's release that hands the name to the head of its queue (handoff-script-time.ts). */
export const LEAN_HANDOFF = leanScript('handoff.lua');
/** The lean lock's keys and events channel, in the shape of holdfast's (keys.ts). */
export const LEAN_KEYS = leanKeys('n');
export const LEAN_CHANNEL = leanChannel('n');

export function runLean(client: Redis, script: FloorScript, ...args: string[]): Promise<unknown> {
  return runFloorScript(client, script, LEAN_KEYS.length, [...LEAN_KEYS, ...args]);
}

/**
 * One acquire+release of the lean lock (lean-lock/*.lua) on `name` (default: the name of
 * LEAN_KEYS); throws unless both succeed.
 */
export async function leanPair(client: Redis, token: string, name = 'n'): Promise<void> {
  const keys = leanKeys(name);
  const channel = leanChannel(name);
  const acquired = (await runFloorScript(client, LEAN_ACQUIRE, 2, [
    ...keys,
    channel,
    token,
    '30000',
    'bench',
  ])) as unknown[];
  if (acquired[0] !== 1) throw new Error('lean-lock floor: the acquire was not granted');
  if ((await runFloorScript(client, LEAN_RELEASE, 2, [...keys, channel, token])) !== 1) {
    throw new Error('lean-lock floor: the release did not release');
  }
}

/** The lean lock's keys for `name`: its queue and its data hash, in holdfast's shape (keys.ts). */
function leanKeys(name: string): readonly [queue: string, data: string] {
  return [`bench:lean:{${name}}:q`, `bench:lean:{${name}}:d`];
}

/** The lean lock's events channel for `name`. */
function leanChannel(name: string): string {
  return `bench:lean:ev:${name}`;
}

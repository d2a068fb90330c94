/**
 * What this machine and this Redis allow at best, measured on the same private Redis in the same
 * run, so a missed target shows whether holdfast is slow or the target lies past what any lock of
 * its design could reach here:
 * - a Redis round trip (PING, 1 client sequential, hot): acquire+release is two of them;
 * - a round trip of the emptiest script (EVALSHA of `return 1` with an acquire's 16 keys and
 *   arguments): what every script-based lock pays at least, before its script does anything;
 * - Redis's own time for holdfast's two scripts (INFO commandstats), 1 client sequential;
 * - a round trip to the embedded server (PING on its RESP port), the sequential floor there;
 * Ceilings derived from these (and from the rows) are printed beside the targets (targets.ts).
 */

import { createHash } from 'node:crypto';
import { connect } from 'holdfast';
import { Redis } from 'ioredis';

const WARMUP = 1000;
const DURATION = 1000;

export interface Floors {
  /** µs per PING round trip, 1 client sequential. */
  readonly roundTrip: number;
  /** µs per round trip of EVALSHA `return 1` with 4 keys and 12 arguments, 1 client sequential. */
  readonly scriptRoundTrip: number;
  /** µs of Redis time (EVALSHA) of each of those calls: the script's run, not the transport. */
  readonly emptyScriptTime: number;
  /** µs of Redis time per holdfast acquire+release (the two scripts), 1 client sequential. */
  readonly holdfastScripts: number;
  /** µs per PING round trip to the embedded server, 1 client sequential. */
  readonly embeddedRoundTrip: number;
}

/** Runs `op` back to back for `ms`; returns how many times it ran. */
async function repeat(ms: number, op: () => Promise<unknown>): Promise<number> {
  let ops = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await op();
    ops++;
  }
  return ops;
}

/**
 * µs per `op` on a fresh connection to `url`, 1 client sequential, after a warm-up; with
 * `redisTime` also the µs of EVALSHA time Redis reported per op meanwhile.
 */
async function roundTrip(
  url: string,
  op: (client: Redis) => Promise<unknown>,
  redisTime?: Redis,
): Promise<{ trip: number; scriptTime: number }> {
  // The embedded server has no INFO, which ioredis's ready check sends.
  const client = new Redis(url, { enableReadyCheck: false });
  try {
    const once = (): Promise<unknown> => op(client);
    await repeat(WARMUP, once);
    const before = redisTime ? await evalshaMicros(redisTime) : 0;
    const start = performance.now();
    const ops = await repeat(DURATION, once);
    const trip = ((performance.now() - start) * 1000) / ops;
    const scriptTime = redisTime ? ((await evalshaMicros(redisTime)) - before) / ops : Number.NaN;
    return { trip, scriptTime };
  } finally {
    client.disconnect();
  }
}

const ping = (client: Redis): Promise<unknown> => client.ping();

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
async function evalshaMicros(admin: Redis): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(/cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(stats)?.[1] ?? Number.NaN);
}

async function holdfastScripts(url: string): Promise<number> {
  const admin = new Redis(url);
  const hf = await connect(url, { prefix: 'bench:floor:' });
  try {
    const mutex = hf.mutex('scripts', { autoExtend: false });
    const cycle = async (): Promise<void> => {
      await (await mutex.acquire()).release();
    };
    await repeat(WARMUP, cycle);
    const before = await evalshaMicros(admin);
    const ops = await repeat(DURATION, cycle);
    return ((await evalshaMicros(admin)) - before) / ops;
  } finally {
    await hf.close();
    admin.disconnect();
  }
}

/** The hand-off's floor is taken beside holdfast's hand-offs instead (handoff.ts). */
export async function measureFloors(url: string, embeddedUrl: string): Promise<Floors> {
  const admin = new Redis(url);
  try {
    const empty = await roundTrip(url, emptyScript, admin);
    return {
      roundTrip: (await roundTrip(url, ping)).trip,
      scriptRoundTrip: empty.trip,
      emptyScriptTime: empty.scriptTime,
      holdfastScripts: await holdfastScripts(url),
      embeddedRoundTrip: (await roundTrip(embeddedUrl.replace(/^holdfast:/, 'redis:'), ping)).trip,
    };
  } finally {
    admin.disconnect();
  }
}

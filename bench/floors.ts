/**
 * What this machine and this Redis allow at best, measured on the same private Redis in the same
 * run, so a missed target shows whether holdfast is slow or the target lies past what any lock of
 * its design could reach here:
 * - a Redis round trip (PING, 1 client sequential, hot): acquire+release is two of them;
 * - Redis's own time for holdfast's two scripts (INFO commandstats), 1 client sequential;
 * Ceilings derived from these (and from the rows) are printed beside the targets (targets.ts).
 */

import { connect } from 'holdfast';
import { Redis } from 'ioredis';

const WARMUP = 1000;
const DURATION = 1000;

export interface Floors {
  /** µs per PING round trip, 1 client sequential. */
  readonly roundTrip: number;
  /** µs of Redis time per holdfast acquire+release (the two scripts), 1 client sequential. */
  readonly holdfastScripts: number;
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

async function roundTrip(url: string): Promise<number> {
  const client = new Redis(url);
  try {
    const ping = (): Promise<string> => client.ping();
    await repeat(WARMUP, ping);
    const start = performance.now();
    const ops = await repeat(DURATION, ping);
    return ((performance.now() - start) * 1000) / ops;
  } finally {
    client.disconnect();
  }
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
export async function measureFloors(url: string): Promise<Floors> {
  return { roundTrip: await roundTrip(url), holdfastScripts: await holdfastScripts(url) };
}

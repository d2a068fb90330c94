/**
 * Measure 4: expiry take-over after a crashed holder. A holder process takes one key per lane
 * with a short TTL and no renewal, and is then SIGKILLed (nothing is released; the OS closes its
 * connections); waiters in this process, one per key, are already blocked in acquire() or
 * start right after. Latency = the moment a waiter holds − the moment the TTL ran out (the
 * holder's acquire round-trip midpoint + TTL, on the shared monotonic clock, sharedNow). Peers at their defaults, so their
 * waiters find out at their next poll. The same for every column (holdfast:// is the embedded
 * server), REPS take-overs in rounds of LANES keys (more for holdfast, whose p99 is the target).
 * The floor, measured in holdfast's rounds (same process, lanes and quiet before): a Node timer
 * armed for the TTL, then one PING to the same server. A waiter that knows the exact moment
 * (holdfast's head waiter does) pays at least that: the timer's lateness (whole ms, and the
 * VM's) and a round trip to a server that sat idle for the TTL (its core asleep).
 */
import { Redis } from 'ioredis';
import type { TakeCommand } from './expiry-holder-worker.js';
import { startWorker } from './ipc.js';
import { LIBS, openLocker } from './libs.js';
import { lanes, percentile, sharedNow, sleep } from './stats.js';
import { byColumn, LOCK_COLUMNS, type LockColumn, type Row } from './table.js';

export const TTL = 300;
/**
 * Take-overs per column: holdfast's (the target is its p99) and the peers'. Its p99 is then the
 * second slowest of 160, where of 40 it was the slowest: one stall of the machine decided it.
 */
const REPS = { holdfast: 160, peers: 40 } as const;
const LANES = 4;

interface LibResult {
  readonly samples: number[];
  readonly failures: string[];
  /** ms from the TTL's end to a PING's reply, the PING sent by a timer armed for the TTL. */
  readonly floor: number[];
}

/** LANES timers armed for the TTL at once, each then one PING on `client`: ms past the TTL. */
async function timerThenPing(client: Redis, into: number[]): Promise<void> {
  await lanes(LANES, async () => {
    const due = sharedNow() + TTL;
    await sleep(TTL);
    await client.ping();
    into.push(sharedNow() - due);
  });
}

/**
 * `lib` at `url`; the holder a process of its own that is SIGKILLed once it holds. For holdfast
 * also the floor, a round of it after each round of take-overs.
 */
async function measureLib(lib: string, url: string): Promise<LibResult> {
  const waiter = await openLocker(lib as (typeof LIBS)[number], url);
  const samples: number[] = [];
  const failures: string[] = [];
  const floor: number[] = [];
  // The embedded server has no INFO, which ioredis's ready check sends.
  const pinger =
    lib === 'holdfast' ? new Redis(url.replace(/^holdfast:/, 'redis:'), { enableReadyCheck: false }) : null;
  try {
    await pinger?.ping();
    const reps = lib === 'holdfast' ? REPS.holdfast : REPS.peers;
    for (let round = 0; round < reps / LANES; round++) {
      const holder = await startWorker('./expiry-holder-worker.ts', lib, url);
      let expiresAt: number[];
      try {
        expiresAt = await Promise.all(
          Array.from({ length: LANES }, (_, lane) => {
            const take: TakeCommand = { cmd: 'take', key: `expiry:${lane}:${round}`, ttl: TTL };
            return holder.call<number>(take);
          }),
        );
      } finally {
        await holder.kill();
      }
      await lanes(LANES, async (lane) => {
        try {
          const release = await waiter.acquire(`expiry:${lane}:${round}`);
          samples.push(sharedNow() - (expiresAt[lane] ?? Number.NaN));
          await release();
        } catch (error) {
          failures.push(error instanceof Error ? error.name : String(error));
        }
      });
      if (pinger) await timerThenPing(pinger, floor);
    }
  } finally {
    await waiter.close();
    pinger?.disconnect();
  }
  return { samples, failures, floor };
}

/** `url`: the Redis server; `serverUrl`: the embedded holdfast server (holdfast://). */
export async function runExpiry(url: string, serverUrl: string): Promise<Row[]> {
  const results = {} as Record<LockColumn, LibResult>;
  for (const lib of LIBS) {
    results[lib] = await measureLib(lib, url);
    if (lib === 'holdfast') results['holdfast://'] = await measureLib(lib, serverUrl);
  }
  const values = (p: number): Record<LockColumn, number> =>
    byColumn(LOCK_COLUMNS, (column) => percentile(results[column].samples, p));
  const notes = byColumn(LOCK_COLUMNS, (column) => {
    const { samples, failures } = results[column];
    return `${samples.length} take-overs, ${failures.length} failed${failures.length ? ` (${failures[0]})` : ''}`;
  });
  const floorValues = (p: number): Record<LockColumn, number | null> =>
    byColumn(LOCK_COLUMNS, (column) => (results[column].floor.length ? percentile(results[column].floor, p) : null));
  const label = `expiry take-over (SIGKILLed holder, ttl ${TTL} ms)`;
  return [
    { measure: `${label} p50`, unit: 'ms', better: 'lower', values: values(50), notes },
    { measure: `${label} p99`, unit: 'ms', better: 'lower', values: values(99) },
    { measure: `${EXPIRY_FLOOR} p50`, unit: 'ms', better: 'none', values: floorValues(50) },
    { measure: `${EXPIRY_FLOOR} p99`, unit: 'ms', better: 'none', values: floorValues(99) },
  ];
}

/** The floor's rows (holdfast's columns: to Redis, to the embedded server). */
export const EXPIRY_FLOOR = `expiry floor: a timer armed for the ${TTL} ms TTL, then one PING`;

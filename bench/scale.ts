/**
 * Measure 6: cost at scale, holdfast only (Redis, and the embedded server as holdfast://).
 * - Held locks: HELD_MANY locks held at once (distinct names, taken with tryAcquire, long TTL,
 *   no renewal); the server's memory per held lock (Redis: INFO used_memory; the embedded server:
 *   its process's heap), and one client's sequential acquire+release of another name, p50, with
 *   HELD_FEW vs HELD_MANY held. The two are two servers of the same kind, side by side on the
 *   server core, one holding HELD_FEW and the other HELD_MANY, probed in turns (ROUNDS each),
 *   so that load on the machine falls on both alike: probed one after the other, seconds apart,
 *   their ratio read 0.68–1.47× for the same code.
 * - A long queue: QUEUE_LONG waiters on one key in one client, then a chain of hand-offs (each
 *   new holder releases at once, noting when): hand-off p50 over the first CHAIN hand-offs vs the
 *   same with one waiter; on Redis also each release's own time in Redis (SLOWLOG, µs), p50,
 *   with one waiter, and in the long chain at its start (QUEUE_LONG waiters) and at its end.
 */
import { connect, type Holdfast, type Lease } from 'holdfast';
import { Redis } from 'ioredis';
import { startRedis } from '../test/helpers/redis-server.js';
import { type HoldfastServer, startHoldfastServer } from './holdfast-server.js';
import { pin, SERVER_CPU } from './pin.js';
import { logEveryCommand, type SlowlogEntry, slowlogEntries } from './slowlog.js';
import { lanes, percentile, wallNow } from './stats.js';
import type { Row } from './table.js';

export const HELD_FEW = 100;
export const HELD_MANY = 100_000;
export const QUEUE_LONG = 1000;
const CHAIN = 200;
/** Sequential acquire+release per round of a probe; the two servers take ROUNDS turns each. */
const PROBES = 200;
const ROUNDS = 10;
const LANES = 64;
const TTL = 300_000;
const PREFIX = 'bench:scale:';

export const SCALE_LABEL = 'scale';

/** The scale rows' measures (targets.ts finds them by these). */
export const MEASURES = {
  memory: `${SCALE_LABEL}: server memory per held lock (${HELD_MANY.toLocaleString('en-US')} held)`,
  few: `${SCALE_LABEL}: acquire+release p50, ${HELD_FEW} locks held`,
  many: `${SCALE_LABEL}: acquire+release p50, ${HELD_MANY.toLocaleString('en-US')} locks held`,
  one: `${SCALE_LABEL}: hand-off p50, 1 waiter on the key`,
  long: `${SCALE_LABEL}: hand-off p50, ${QUEUE_LONG.toLocaleString('en-US')} waiters on the key`,
  releaseOne: `${SCALE_LABEL}: a release's time in Redis p50, 1 waiter`,
  releaseLong: `${SCALE_LABEL}: a release's time in Redis p50, ${QUEUE_LONG.toLocaleString('en-US')}–${(QUEUE_LONG - CHAIN).toLocaleString('en-US')} waiters`,
  releaseShort: `${SCALE_LABEL}: a release's time in Redis p50, ${CHAIN}–1 waiters (same chain)`,
} as const;

type Memory = () => Promise<number>;

interface Side {
  memoryPerLock: number;
  few: number;
  many: number;
  one: number;
  long: number;
  releaseOne: number | null;
  releaseLong: number | null;
  releaseShort: number | null;
}

/** One round of sequential acquire+release of one name: its p50, ms. */
async function probeRound(hf: Holdfast): Promise<number> {
  const mutex = hf.mutex('probe', { ttl: 10_000, autoExtend: false });
  const samples: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    const start = performance.now();
    await (await mutex.acquire()).release();
    samples.push(performance.now() - start);
  }
  return percentile(samples, 50);
}

/**
 * The probe on `few` and on `many` in turns, ROUNDS each, the first of each pair alternating:
 * the median of each one's round p50s (ms), so that a round the machine spent elsewhere does
 * not decide it.
 */
async function probeInTurns(few: Holdfast, many: Holdfast): Promise<{ few: number; many: number }> {
  const rounds = { few: [] as number[], many: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['few', 'many'] as const) : (['many', 'few'] as const);
    for (const side of order) rounds[side].push(await probeRound(side === 'few' ? few : many));
  }
  return { few: percentile(rounds.few, 50), many: percentile(rounds.many, 50) };
}

async function hold(hf: Holdfast, from: number, to: number, held: Lease[]): Promise<void> {
  let next = from;
  await lanes(LANES, async () => {
    while (next < to) {
      const i = next++;
      const lease = await hf.mutex(`held:${i}`, { ttl: TTL, autoExtend: false }).tryAcquire();
      if (lease === null) throw new Error(`held:${i} was not free`);
      held.push(lease);
    }
  });
}

/**
 * HELD_FEW locks held on `few`'s server and HELD_MANY on `many`'s (the memory they take read
 * there), then the probe on both in turns.
 */
async function heldLocks(
  few: Holdfast,
  many: Holdfast,
  memory: Memory,
): Promise<Pick<Side, 'memoryPerLock' | 'few' | 'many'>> {
  const held: Lease[] = [];
  // warm-up: the JIT, and both servers' first commands
  await probeRound(few);
  await probeRound(many);
  await hold(few, 0, HELD_FEW, held);
  await hold(many, 0, HELD_FEW, held);
  const before = await memory();
  await hold(many, HELD_FEW, HELD_MANY, held);
  const after = await memory();
  const probed = await probeInTurns(few, many);
  // Left to expire on the server: releasing them all would only make the run longer.
  for (const lease of held) lease.detach();
  return { memoryPerLock: (after - before) / (HELD_MANY - HELD_FEW), ...probed };
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const queued = (hf: Holdfast, name: string, count: number) => async (): Promise<boolean> =>
  ((await hf.inspect(name))?.waiters.length ?? 0) === count;

/**
 * One hand-off chain on `name`: the client holds it with `waiters` queued behind; then each
 * holder releases as soon as it holds, noting when. Returns the first `count` hand-off latencies,
 * and the tokens whose release handed the lock on (all but the last holder's).
 */
async function chain(
  hf: Holdfast,
  name: string,
  waiters: number,
  count: number,
): Promise<{ samples: number[]; handing: string[] }> {
  const mutex = hf.mutex(name, { ttl: 30_000, autoExtend: false });
  const first = await mutex.acquire();
  const samples: number[] = [];
  const holders: string[] = [first.token];
  let releasedAt = 0;
  const pending = Array.from({ length: waiters }, () =>
    mutex.acquire().then(async (lease) => {
      const now = wallNow();
      if (samples.length < count) samples.push(now - releasedAt);
      holders.push(lease.token);
      releasedAt = wallNow();
      await lease.release();
    }),
  );
  await until(queued(hf, name, waiters), `${waiters} waiters on ${name}`);
  releasedAt = wallNow();
  await first.release();
  await Promise.all(pending);
  return { samples, handing: holders.slice(0, -1) };
}

/**
 * The Redis time (µs) of the releases by `tokens` in SLOWLOG (EVALSHA with 4 keys and 3
 * arguments, the token last), newest first as SLOWLOG lists them.
 */
function releaseTimes(log: readonly SlowlogEntry[], tokens: readonly string[]): number[] {
  const wanted = new Set(tokens);
  return log
    .filter(([, , , args]) => args.length === 10 && args[0]?.toLowerCase() === 'evalsha' && wanted.has(args[9] ?? ''))
    .map(([, , micros]) => micros);
}

async function queues(
  hf: Holdfast,
  admin: Redis | null,
): Promise<Pick<Side, 'one' | 'long' | 'releaseOne' | 'releaseLong' | 'releaseShort'>> {
  let restoreThreshold: (() => Promise<void>) | null = null;
  if (admin) {
    await admin.config('SET', 'slowlog-max-len', '100000');
    restoreThreshold = await logEveryCommand(admin);
    await admin.slowlog('RESET');
  }
  const one: number[] = [];
  const oneHanding: string[] = [];
  for (let i = 0; i < CHAIN; i++) {
    const step = await chain(hf, 'queue:one', 1, 1);
    one.push(...step.samples);
    oneHanding.push(...step.handing);
  }
  const { samples: long, handing: longHanding } = await chain(hf, 'queue:long', QUEUE_LONG, CHAIN);
  let releaseOne: number | null = null;
  let releaseLong: number | null = null;
  let releaseShort: number | null = null;
  if (admin) {
    const log = await slowlogEntries(admin, 100_000);
    await restoreThreshold?.();
    await admin.slowlog('RESET');
    releaseOne = percentile(releaseTimes(log, oneHanding), 50);
    // SLOWLOG lists the newest first: the first CHAIN releases of the long queue are its last
    // entries, the releases with the fewest waiters behind them its first.
    const chained = releaseTimes(log, longHanding);
    releaseLong = percentile(chained.slice(-CHAIN), 50);
    releaseShort = percentile(chained.slice(0, CHAIN), 50);
  }
  return { one: percentile(one, 50), long: percentile(long, 50), releaseOne, releaseLong, releaseShort };
}

/** `url` holds HELD_MANY locks and runs the queues; `fewUrl`, a server of the same kind, HELD_FEW. */
async function measure(url: string, fewUrl: string, memory: Memory, admin: Redis | null): Promise<Side> {
  const hf = await connect(url, { prefix: PREFIX });
  const few = await connect(fewUrl, { prefix: PREFIX });
  try {
    const held = await heldLocks(few, hf, memory);
    return { ...held, ...(await queues(hf, admin)) };
  } finally {
    await Promise.all([hf.close(), few.close()]);
  }
}

export async function runScale(url: string, server: HoldfastServer): Promise<Row[]> {
  const admin = new Redis(url);
  // The servers that hold HELD_FEW, beside the run's own, on the same core.
  const fewRedis = await startRedis();
  pin(fewRedis.pid, SERVER_CPU);
  let redis: Side;
  try {
    const usedMemory = async (): Promise<number> =>
      Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1] ?? Number.NaN);
    redis = await measure(url, fewRedis.url, usedMemory, admin);
    // The held locks would otherwise stay for their TTL.
    await admin.flushdb();
  } finally {
    admin.disconnect();
    await fewRedis.stop();
  }
  const fewServer = await startHoldfastServer();
  let embedded: Side;
  try {
    embedded = await measure(server.url, fewServer.url, server.heapBytes, null);
  } finally {
    await fewServer.stop();
  }
  const row = (measure: string, unit: string, f: (s: Side) => number | null): Row => ({
    measure,
    unit,
    better: 'lower',
    values: { holdfast: f(redis), 'holdfast://': f(embedded), redlock: null, 'redis-semaphore': null },
  });
  const µs = (ms: number): number => ms * 1000;
  return [
    row(MEASURES.memory, 'bytes', (s) => s.memoryPerLock),
    row(MEASURES.few, 'µs', (s) => µs(s.few)),
    row(MEASURES.many, 'µs', (s) => µs(s.many)),
    row(MEASURES.one, 'ms', (s) => s.one),
    row(MEASURES.long, 'ms', (s) => s.long),
    row(MEASURES.releaseOne, 'µs', (s) => s.releaseOne),
    row(MEASURES.releaseLong, 'µs', (s) => s.releaseLong),
    row(MEASURES.releaseShort, 'µs', (s) => s.releaseShort),
  ];
}

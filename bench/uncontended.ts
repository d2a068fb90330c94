/**
 * Measure 1: uncontended acquire + release throughput, in this process. 64 loops in parallel on
 * 64 distinct keys, each library on its own connection; one client in sequence is timed apart,
 * in fine alternation with its floors (sequential.ts). holdfast runs with `autoExtend: false` for
 * the like-for-like rows and again with its defaults. holdfast:// (the embedded server) runs the
 * like-for-like rows only. The libraries take turns for ROUNDS rounds and each figure is the
 * median of its rounds, so that a spell of load elsewhere on the machine falls on every library
 * alike instead of on whichever ran then.
 */
import { Redis } from 'ioredis';
import { type Floors, leanPair } from './floors.js';
import type { HoldfastServer } from './holdfast-server.js';
import { LIBS, type LibName, type Locker, type LockOptions, openLocker, type Release } from './libs.js';
import { runSequential } from './sequential.js';
import { JIT_WARMUP, lanes, median } from './stats.js';
import { byColumn, LOCK_COLUMNS, type LockColumn, type Row } from './table.js';

const ROUNDS = 3;
const DURATION = 600;
/** Before each row; the first round warms each library up for JIT_WARMUP instead. */
const WARMUP = 200;
const PARALLEL = 64;
const SEMAPHORE_LIMIT = 4;

type Op = (lane: number) => Promise<Release>;
/** One acquire+release (or one floor's unit of work) on `lane`. */
type Cycle = (lane: number) => Promise<unknown>;

const cycleOf =
  (op: Op): Cycle =>
  async (lane) =>
    (await op(lane))();

interface Throughput {
  readonly rate: number;
  /** CPU time per acquire+release, in µs: this process, and the (private) Redis server. */
  readonly clientCpu: number;
  readonly serverCpu: number;
}

/** The Redis server's CPU seconds so far (user + system), from INFO. */
async function redisCpu(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string): number => Number(new RegExp(`${name}:(\\S+)`).exec(info)?.[1] ?? Number.NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** acquire+release per second over `DURATION` ms with `parallel` loops, after `warmup` ms of the same. */
async function throughput(
  serverCpu: () => Promise<number>,
  parallel: number,
  cycle: Cycle,
  warmup = WARMUP,
): Promise<Throughput> {
  const warm = performance.now() + warmup;
  await lanes(parallel, async (lane) => {
    while (performance.now() < warm) await cycle(lane);
  });
  let ops = 0;
  const server = await serverCpu();
  const client = process.cpuUsage();
  const start = performance.now();
  const end = start + DURATION;
  await lanes(parallel, async (lane) => {
    while (performance.now() < end) {
      await cycle(lane);
      ops++;
    }
  });
  const elapsed = performance.now() - start;
  const { user, system } = process.cpuUsage(client);
  const serverUs = ((await serverCpu()) - server) * 1e6;
  return { rate: (ops * 1000) / elapsed, clientCpu: (user + system) / ops, serverCpu: serverUs / ops };
}

interface LibResult {
  par: Throughput;
  parDefault: Throughput | null;
  semaphore: Throughput | null;
}

/**
 * `lib` on `url`; `serverCpu` reads the server's CPU seconds. `full`: also holdfast's defaults
 * and the semaphore (not for holdfast://, which keeps to the like-for-like rows).
 */
async function measureLib(
  lib: LibName,
  url: string,
  serverCpu: () => Promise<number>,
  full = true,
  warmup = WARMUP,
): Promise<LibResult> {
  const locker: Locker = await openLocker(lib, url);
  try {
    // The like-for-like setting: holdfast without renewal; peers exactly as they come.
    const fair: LockOptions = lib === 'holdfast' ? { renew: false } : {};
    const par = await throughput(
      serverCpu,
      PARALLEL,
      cycleOf((lane) => locker.acquire(`u:par:${lane}`, fair)),
      warmup,
    );
    const defaults = lib === 'holdfast' && full;
    const parDefault = defaults
      ? await throughput(
          serverCpu,
          PARALLEL,
          cycleOf((lane) => locker.acquire(`u:par-default:${lane}`)),
        )
      : null;
    const permit = full ? locker.acquirePermit : undefined;
    const semaphore = permit
      ? await throughput(
          serverCpu,
          1,
          cycleOf(() => permit('u:sem', SEMAPHORE_LIMIT)),
        )
      : null;
    return { par, parDefault, semaphore };
  } finally {
    await locker.close();
  }
}

async function measureOnRedis(lib: LibName, url: string, warmup: number): Promise<LibResult> {
  const admin = new Redis(url);
  try {
    return await measureLib(lib, url, () => redisCpu(admin), true, warmup);
  } finally {
    admin.disconnect();
  }
}

/**
 * The lean lock's acquire+release (floors.ts) on PARALLEL names in parallel, each script its own
 * EVALSHA on one connection: Redis's CPU per pair, µs. Timed in the rounds of the libraries, so
 * the same spells of load fall on it.
 */
async function leanParallelCpu(url: string, warmup: number): Promise<number> {
  const admin = new Redis(url);
  const lean = new Redis(url);
  let tokens = 0;
  try {
    await lean.ping();
    const run = await throughput(
      () => redisCpu(admin),
      PARALLEL,
      (lane) => leanPair(lean, `lean-par-${++tokens}`, `u:lean:${lane}`),
      warmup,
    );
    return run.serverCpu;
  } finally {
    admin.disconnect();
    lean.disconnect();
  }
}

export const CEILING = 'embedded server ceiling: acquire+release/s on one core (1 s ÷ its CPU per op, 64 in parallel)';

/** The median of each figure over the rounds (null where a round has none). */
function medianOf(rounds: readonly LibResult[]): LibResult {
  const of = (f: (r: LibResult) => Throughput | null): Throughput | null => {
    const runs = rounds.map(f).filter((t): t is Throughput => t !== null);
    if (runs.length === 0) return null;
    return {
      rate: median(runs.map((t) => t.rate)),
      clientCpu: median(runs.map((t) => t.clientCpu)),
      serverCpu: median(runs.map((t) => t.serverCpu)),
    };
  };
  return {
    par: of((r) => r.par) as Throughput,
    parDefault: of((r) => r.parDefault),
    semaphore: of((r) => r.semaphore),
  };
}

export async function runUncontended(url: string, server: HoldfastServer): Promise<{ rows: Row[]; floors: Floors }> {
  const rounds = new Map<LockColumn, LibResult[]>(LOCK_COLUMNS.map((column) => [column, []]));
  const lean: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const warmup = round === 0 ? JIT_WARMUP : WARMUP;
    for (const lib of LIBS) {
      rounds.get(lib)?.push(await measureOnRedis(lib, url, warmup));
      if (lib === 'holdfast') {
        rounds.get('holdfast://')?.push(await measureLib(lib, server.url, server.cpuSeconds, false, warmup));
      }
    }
    lean.push(await leanParallelCpu(url, warmup));
  }
  const results = byColumn(LOCK_COLUMNS, (column) => medianOf(rounds.get(column) ?? []));
  const sequential = await runSequential(url, server.url);
  const floors: Floors = { ...sequential.floors, leanParallelCpu: median(lean) };
  const perSecond = (micros: number): number => 1e6 / micros;
  const seq = byColumn(LOCK_COLUMNS, (column) => perSecond(sequential.pair[column]));
  /** One metric of one run per column; `holdfast` overrides holdfast's (on Redis) run. */
  const pick =
    (f: (r: LibResult) => Throughput | null, holdfast = f(results.holdfast)) =>
    (metric: keyof Throughput): Record<LockColumn, number | null> => ({
      ...byColumn(LOCK_COLUMNS, (column) => f(results[column])?.[metric] ?? null),
      holdfast: holdfast?.[metric] ?? null,
    });
  const rate = (measure: string, values: Record<LockColumn, number | null>): Row => ({
    measure,
    unit: 'ops/s',
    better: 'higher',
    values,
  });
  const cpu = (measure: string, values: Record<LockColumn, number | null>): Row => ({
    measure,
    unit: 'µs',
    better: 'lower',
    values,
  });
  const fair = 'hf autoExtend:false';
  const par = pick((r) => r.par);
  // Peers run at their defaults in every row, so the "hf defaults" rows reuse their runs; for
  // holdfast:// those rows are not measured.
  const defaults = (
    f: (r: LibResult) => Throughput | null,
    d: Throughput | null,
  ): Record<LockColumn, number | null> => ({
    ...pick(f, d)('rate'),
    'holdfast://': null,
  });
  const rows: Row[] = [
    rate(`uncontended, 1 client sequential (${fair})`, seq),
    rate(`uncontended, ${PARALLEL} keys in parallel (${fair})`, par('rate')),
    rate('uncontended, 1 client sequential (hf defaults)', {
      ...seq,
      holdfast: perSecond(sequential.pair['holdfast defaults']),
      'holdfast://': null,
    }),
    rate(
      `uncontended, ${PARALLEL} keys in parallel (hf defaults)`,
      defaults((r) => r.par, results.holdfast.parDefault),
    ),
    rate(`semaphore(${SEMAPHORE_LIMIT}) permit, 1 client sequential`, pick((r) => r.semaphore)('rate')),
    // The server's CPU: redis-server (INFO cpu), or the holdfast:// server's process.
    cpu(`server CPU per acquire+release (${PARALLEL} in parallel, ${fair})`, par('serverCpu')),
    cpu(`client CPU per acquire+release (${PARALLEL} in parallel, ${fair})`, par('clientCpu')),
    {
      measure: CEILING,
      unit: 'ops/s',
      better: 'higher',
      values: {
        holdfast: null,
        'holdfast://': 1e6 / results['holdfast://'].par.serverCpu,
        redlock: null,
        'redis-semaphore': null,
      },
    },
  ];
  return { rows, floors };
}

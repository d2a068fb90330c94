/**
 * Measure 1: uncontended acquire + release throughput, in this process. Sequential (one loop)
 * and 64 loops in parallel on 64 distinct keys, each library on its own connection. holdfast runs
 * with `autoExtend: false` for the like-for-like rows and again with its defaults.
 */
import { Redis } from 'ioredis';
import { LIBS, type LibName, type Locker, type LockOptions, openLocker, type Release } from './libs.js';
import { lanes } from './stats.js';
import type { Row } from './table.js';

const DURATION = 1000;
/** Before each row; the first row of a library is preceded by a longer `FIRST_WARMUP`. */
const WARMUP = 300;
/** The JIT takes about this long to settle: with less the first row came out ~30% low. */
const FIRST_WARMUP = 1000;
const PARALLEL = 64;
const SEMAPHORE_LIMIT = 4;

type Op = (lane: number) => Promise<Release>;

interface Throughput {
  readonly rate: number;
  /** CPU time per acquire+release, in µs: this process, and the (private) Redis server. */
  readonly clientCpu: number;
  readonly serverCpu: number;
}

/** The Redis server's CPU seconds so far (user + system), from INFO. */
async function serverCpu(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string): number => Number(new RegExp(`${name}:(\\S+)`).exec(info)?.[1] ?? Number.NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** acquire+release per second over `DURATION` ms with `parallel` loops, after `warmup` ms of the same. */
async function throughput(admin: Redis, parallel: number, op: Op, warmup = WARMUP): Promise<Throughput> {
  const warm = performance.now() + warmup;
  await lanes(parallel, async (lane) => {
    while (performance.now() < warm) await (await op(lane))();
  });
  let ops = 0;
  const server = await serverCpu(admin);
  const client = process.cpuUsage();
  const start = performance.now();
  const end = start + DURATION;
  await lanes(parallel, async (lane) => {
    while (performance.now() < end) {
      await (await op(lane))();
      ops++;
    }
  });
  const elapsed = performance.now() - start;
  const { user, system } = process.cpuUsage(client);
  const serverUs = ((await serverCpu(admin)) - server) * 1e6;
  return { rate: (ops * 1000) / elapsed, clientCpu: (user + system) / ops, serverCpu: serverUs / ops };
}

interface LibResult {
  seq: Throughput;
  par: Throughput;
  seqDefault: Throughput | null;
  parDefault: Throughput | null;
  semaphore: Throughput | null;
}

async function measureLib(lib: LibName, url: string): Promise<LibResult> {
  const locker: Locker = await openLocker(lib, url);
  const admin = new Redis(url);
  try {
    // The like-for-like setting: holdfast without renewal; peers exactly as they come.
    const fair: LockOptions = lib === 'holdfast' ? { renew: false } : {};
    const seq = await throughput(admin, 1, () => locker.acquire('u:seq', fair), FIRST_WARMUP);
    const par = await throughput(admin, PARALLEL, (lane) => locker.acquire(`u:par:${lane}`, fair));
    const seqDefault = lib === 'holdfast' ? await throughput(admin, 1, () => locker.acquire('u:seq-default')) : null;
    const parDefault =
      lib === 'holdfast' ? await throughput(admin, PARALLEL, (lane) => locker.acquire(`u:par-default:${lane}`)) : null;
    const permit = locker.acquirePermit;
    const semaphore = permit ? await throughput(admin, 1, () => permit('u:sem', SEMAPHORE_LIMIT)) : null;
    return { seq, par, seqDefault, parDefault, semaphore };
  } finally {
    admin.disconnect();
    await locker.close();
  }
}

export async function runUncontended(url: string): Promise<Row[]> {
  const results = {} as Record<LibName, LibResult>;
  for (const lib of LIBS) results[lib] = await measureLib(lib, url);
  /** One metric of one run per library; `holdfast` overrides holdfast's run. */
  const pick =
    (f: (r: LibResult) => Throughput | null, holdfast = f(results.holdfast)) =>
    (metric: keyof Throughput): Record<LibName, number | null> => ({
      holdfast: holdfast?.[metric] ?? null,
      redlock: f(results.redlock)?.[metric] ?? null,
      'redis-semaphore': f(results['redis-semaphore'])?.[metric] ?? null,
    });
  const rate = (measure: string, values: Record<LibName, number | null>): Row => ({
    measure,
    unit: 'ops/s',
    better: 'higher',
    values,
  });
  const cpu = (measure: string, values: Record<LibName, number | null>): Row => ({
    measure,
    unit: 'µs',
    better: 'lower',
    values,
  });
  const fair = 'hf autoExtend:false';
  const par = pick((r) => r.par);
  // Peers run at their defaults in every row, so the "hf defaults" rows reuse their runs.
  return [
    rate(`uncontended, 1 client sequential (${fair})`, pick((r) => r.seq)('rate')),
    rate(`uncontended, ${PARALLEL} keys in parallel (${fair})`, par('rate')),
    rate('uncontended, 1 client sequential (hf defaults)', pick((r) => r.seq, results.holdfast.seqDefault)('rate')),
    rate(
      `uncontended, ${PARALLEL} keys in parallel (hf defaults)`,
      pick((r) => r.par, results.holdfast.parDefault)('rate'),
    ),
    rate(`semaphore(${SEMAPHORE_LIMIT}) permit, 1 client sequential`, pick((r) => r.semaphore)('rate')),
    cpu(`Redis CPU per acquire+release (${PARALLEL} in parallel, ${fair})`, par('serverCpu')),
    cpu(`client CPU per acquire+release (${PARALLEL} in parallel, ${fair})`, par('clientCpu')),
  ];
}

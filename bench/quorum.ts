/**
 * The quorum backend (`{ redlock: [...] }`) on 3 private redis-servers of its own: acquire +
 * release p50 against holdfast on one Redis (same client code), and hand-off p50 against the
 * `redlock` package at its defaults on the same 3 masters. Sequential, one process: latency,
 * not throughput (this machine's cores are shared by every server). Beside the target, the
 * floor this machine sets: holdfast's single-Redis acquire+release sent to the 3 nodes at once
 * (what a quorum asks of its nodes, without any quorum logic), and a bare PING to the 3 nodes
 * at once against one to the single Redis; all interleaved round by round.
 */
import { connect, type Holdfast } from 'holdfast';
import { Redis } from 'ioredis';
import Redlock from 'redlock';
import { type RedisProcess, startRedis } from '../test/helpers/redis-server.js';
import { percentile, sleep } from './stats.js';

const ROUNDS = 300;
const WARMUP = 30;
const HANDOFFS = 20;
/** How long the redlock waiter is left in its retry loop before the release. */
const REDLOCK_SETTLE = 50;

export interface QuorumNumbers {
  readonly singleP50: number;
  readonly quorumP50: number;
  /** The floor: holdfast on one Redis, run on each of the 3 nodes at once (no quorum logic). */
  readonly parallelP50: number;
  readonly quorumHandoffP50: number;
  readonly redlockHandoffP50: number;
  /** p50 of one PING to the single Redis, and of one PING to each of the 3 nodes in parallel. */
  readonly pingSingleP50: number;
  readonly pingQuorumP50: number;
}

/** PING to one Redis and to three at once, taking turns, so load elsewhere falls on both. */
async function pingFloor(single: Redis, nodes: readonly Redis[]): Promise<{ single: number; quorum: number }> {
  const one: number[] = [];
  const three: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    let start = performance.now();
    await single.ping();
    const a = performance.now() - start;
    start = performance.now();
    await Promise.all(nodes.map((node) => node.ping()));
    const b = performance.now() - start;
    if (i >= WARMUP) {
      one.push(a);
      three.push(b);
    }
  }
  return { single: percentile(one, 50), quorum: percentile(three, 50) };
}

/**
 * acquire+release p50 on one Redis, on the quorum, and on 3 single-Redis clients of the
 * quorum's nodes at once (the same lock taken and released on each, in parallel, with no quorum
 * logic: the floor), taking turns round by round so a spell of load elsewhere on the machine
 * falls on all three alike.
 */
async function acquireRelease(
  single: Holdfast,
  quorum: Holdfast,
  parallel: readonly Holdfast[],
): Promise<{ single: number; quorum: number; parallel: number }> {
  const mutex = (hf: Holdfast) => hf.mutex('bench:q:ar', { ttl: 10_000, autoExtend: false });
  const one = async (hf: Holdfast) => {
    const lease = await mutex(hf).tryAcquire();
    await lease?.release();
  };
  const subjects = [() => one(single), () => one(quorum), () => Promise.all(parallel.map(one))];
  const samples: number[][] = subjects.map(() => []);
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    for (const [which, run] of subjects.entries()) {
      const start = performance.now();
      await run();
      if (i >= WARMUP) samples[which]?.push(performance.now() - start);
    }
  }
  const [a = [], b = [], c = []] = samples;
  return { single: percentile(a, 50), quorum: percentile(b, 50), parallel: percentile(c, 50) };
}

/** ms from the holder's release() call to the waiter holding. */
async function holdfastHandoff(a: Holdfast, b: Holdfast): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < HANDOFFS; i++) {
    const held = await a.mutex('bench:q:ho', { ttl: 10_000 }).tryAcquire();
    const waiting = b.mutex('bench:q:ho', { ttl: 10_000 }).acquire({ wait: 10_000 });
    while (((await a.inspect('bench:q:ho'))?.waiters.length ?? 0) === 0) await sleep(2);
    const start = performance.now();
    await held?.release();
    const lease = await waiting;
    samples.push(performance.now() - start);
    await lease.release();
  }
  return percentile(samples, 50);
}

async function redlockHandoff(clients: readonly Redis[]): Promise<number> {
  const redlock = new Redlock(clients);
  const samples: number[] = [];
  try {
    for (let i = 0; i < HANDOFFS; i++) {
      const held = await redlock.acquire(['bench:q:rl'], 10_000);
      let acquiredAt = 0;
      const waiting = redlock.acquire(['bench:q:rl'], 10_000).then((lock) => {
        acquiredAt = performance.now();
        return lock;
      });
      await sleep(REDLOCK_SETTLE);
      const start = performance.now();
      await held.release();
      const lock = await waiting;
      samples.push(acquiredAt - start);
      await lock.release();
    }
  } finally {
    await redlock.quit().catch(() => {});
  }
  return percentile(samples, 50);
}

/**
 * The single Redis to compare with is a fourth private redis-server started the same way as
 * the three nodes (not the bench's pinned one): the same placement on this machine's cores.
 */
export async function runQuorum(): Promise<QuorumNumbers> {
  const [alone, ...servers] = (await Promise.all([startRedis(), startRedis(), startRedis(), startRedis()])) as [
    RedisProcess,
    ...RedisProcess[],
  ];
  const singleUrl = alone.url;
  const urls = servers.map((s) => s.url);
  const clients = urls.map((url) => new Redis(url));
  const single = await connect(singleUrl, { prefix: 'bench:q1:' });
  const singlePing = new Redis(singleUrl);
  const pingNodes = urls.map((url) => new Redis(url));
  const parallel = await Promise.all(urls.map((url) => connect(url, { prefix: 'bench:qp:' })));
  const [qa, qb] = [
    await connect({ redlock: urls }, { prefix: 'bench:q3:' }),
    await connect({ redlock: urls }, { prefix: 'bench:q3:' }),
  ];
  try {
    const measured = await acquireRelease(single, qa, parallel);
    const quorumHandoffP50 = await holdfastHandoff(qa, qb);
    const redlockHandoffP50 = await redlockHandoff(clients);
    // redlock.quit() closed `clients`: the floor gets connections of its own
    const ping = await pingFloor(singlePing, pingNodes);
    return {
      singleP50: measured.single,
      quorumP50: measured.quorum,
      parallelP50: measured.parallel,
      quorumHandoffP50,
      redlockHandoffP50,
      pingSingleP50: ping.single,
      pingQuorumP50: ping.quorum,
    };
  } finally {
    await Promise.allSettled([
      single.close(),
      qa.close(),
      qb.close(),
      singlePing.quit(),
      ...parallel.map((hf) => hf.close()),
      ...pingNodes.map((c) => c.quit()),
      ...clients.map((c) => c.quit()),
    ]);
    await Promise.allSettled([alone, ...servers].map((s) => s.stop()));
  }
}

export function renderQuorum(n: QuorumNumbers): string {
  const ms = (v: number): string => `${v.toFixed(2)} ms`;
  const ratio = n.quorumP50 / n.singleP50;
  const faster = n.redlockHandoffP50 / n.quorumHandoffP50;
  const floor = n.parallelP50 / n.singleP50;
  const pingFloor = n.pingQuorumP50 / n.pingSingleP50;
  return [
    'quorum of 3 ({ redlock }, 3 private redis-servers; one Redis: a 4th alike), sequential, one process:',
    `  acquire+release p50: quorum-3 ${ms(n.quorumP50)}, one Redis ${ms(n.singleP50)}: ${ratio.toFixed(2)}× (target ≤ 1.5×) ${ratio <= 1.5 ? '✓' : '✗'}`,
    `      floor here: holdfast on one Redis, run on the 3 nodes at once ${ms(n.parallelP50)}: ${floor.toFixed(2)}× one Redis ` +
      `(the target ${floor <= 1.5 ? 'is within' : 'is below'} what this machine allows; quorum-3 is at ${(ratio / floor).toFixed(2)}× of that floor); ` +
      `a bare PING to 3 nodes at once ${ms(n.pingQuorumP50)} vs to one ${ms(n.pingSingleP50)}: ${pingFloor.toFixed(2)}×`,
    `  hand-off p50: holdfast quorum-3 ${ms(n.quorumHandoffP50)}, redlock v5 defaults on the same masters ${ms(n.redlockHandoffP50)}: ${faster.toFixed(1)}× faster (target ≥ 10×) ${faster >= 10 ? '✓' : '✗'}`,
  ].join('\n');
}

/**
 * The quorum backend (`{ redlock: [...] }`) on 3 private redis-servers of its own: acquire +
 * release p50 against holdfast on one Redis (same client code), and hand-off p50 against the
 * `redlock` package at its defaults on the same 3 masters. Sequential, one process: latency,
 * not throughput (this machine's cores are shared by every server). Beside the target, the
 * floor this machine sets: a bare PING to the 3 nodes in parallel against one to the single
 * Redis, interleaved (an acquire+release is two round trips on either side, so no quorum code
 * can do better than this ratio here).
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

async function acquireRelease(hf: Holdfast): Promise<number> {
  const mutex = hf.mutex('bench:q:ar', { ttl: 10_000, autoExtend: false });
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const start = performance.now();
    const lease = await mutex.tryAcquire();
    await lease?.release();
    if (i >= WARMUP) samples.push(performance.now() - start);
  }
  return percentile(samples, 50);
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

export async function runQuorum(singleUrl: string): Promise<QuorumNumbers> {
  const servers: RedisProcess[] = await Promise.all([startRedis(), startRedis(), startRedis()]);
  const urls = servers.map((s) => s.url);
  const clients = urls.map((url) => new Redis(url));
  const single = await connect(singleUrl, { prefix: 'bench:q1:' });
  const singlePing = new Redis(singleUrl);
  const [qa, qb] = [
    await connect({ redlock: urls }, { prefix: 'bench:q3:' }),
    await connect({ redlock: urls }, { prefix: 'bench:q3:' }),
  ];
  try {
    const singleP50 = await acquireRelease(single);
    const quorumP50 = await acquireRelease(qa);
    const quorumHandoffP50 = await holdfastHandoff(qa, qb);
    const redlockHandoffP50 = await redlockHandoff(clients);
    const ping = await pingFloor(singlePing, clients);
    return {
      singleP50,
      quorumP50,
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
      ...clients.map((c) => c.quit()),
    ]);
    await Promise.allSettled(servers.map((s) => s.stop()));
  }
}

export function renderQuorum(n: QuorumNumbers): string {
  const ms = (v: number): string => `${v.toFixed(2)} ms`;
  const ratio = n.quorumP50 / n.singleP50;
  const faster = n.redlockHandoffP50 / n.quorumHandoffP50;
  const floor = n.pingQuorumP50 / n.pingSingleP50;
  return [
    'quorum of 3 ({ redlock }, 3 private redis-servers), sequential, one process:',
    `  acquire+release p50: quorum-3 ${ms(n.quorumP50)}, one Redis ${ms(n.singleP50)}: ${ratio.toFixed(2)}× (target ≤ 1.5×) ${ratio <= 1.5 ? '✓' : '✗'}`,
    `      floor here: a PING to 3 nodes in parallel ${ms(n.pingQuorumP50)} vs to one Redis ${ms(n.pingSingleP50)}: ${floor.toFixed(2)}× ` +
      `(the target ${floor <= 1.5 ? 'is within' : 'is below'} what this machine allows; quorum-3 is at ${(ratio / floor).toFixed(2)}× of that floor)`,
    `  hand-off p50: holdfast quorum-3 ${ms(n.quorumHandoffP50)}, redlock v5 defaults on the same masters ${ms(n.redlockHandoffP50)}: ${faster.toFixed(1)}× faster (target ≥ 10×) ${faster >= 10 ? '✓' : '✗'}`,
  ].join('\n');
}

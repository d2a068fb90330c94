/**
 * The etcd section of `npm run bench`: holdfast on a private 3-member etcd cluster (the tests'
 * harness: Debian's etcd-server on loopback, data in memory) against the `etcd3` package's own
 * `Lock` recipe on the same cluster, and holdfast with the same code on the bench's Redis, for
 * the cost per operation of a consensus store. etcd3's Lock cannot wait (acquire rejects when
 * the lock is taken): its waiters retry every POLL_MS, a tight poll that favours it.
 * Targets (issue #10): hand-off ≥ 5× faster than etcd3's Lock, contended p99 ≥ 3× lower,
 * uncontended throughput ≥ 1.0×.
 */
import { Etcd3, EtcdLockFailedError, type Lock } from 'etcd3';
import { connect, type Holdfast } from 'holdfast';
import { type EtcdCluster, startEtcdCluster } from '../test/helpers/etcd-cluster.js';
import { lanes, percentile, sleep } from './stats.js';

const POLL_MS = 10;
const UNCONTENDED_OPS = 300;
const PARALLEL = 16;
const HANDOFFS = 40;
const CONTENDERS = 8;
const CONTENDED_MS = 4000;
const HOLD_MS = 2;
/** etcd3's Lock TTL, in s (its default is 30). */
const LOCK_TTL_S = 10;

/** One way to take and give back a lock, whatever the library. */
interface Locker {
  acquire(name: string): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

async function holdfastLocker(url: string, prefix: string): Promise<Locker> {
  const hf: Holdfast = await connect(url, { prefix });
  return {
    async acquire(name) {
      const lease = await hf.mutex(name, { ttl: LOCK_TTL_S * 1000 }).acquire();
      return async () => {
        await lease.release();
      };
    },
    close: () => hf.close(),
  };
}

function etcd3Locker(cluster: EtcdCluster): Locker {
  const client = new Etcd3({ hosts: cluster.members.map((m) => m.endpoint) });
  const ns = client.namespace('bench:etcd3:');
  return {
    async acquire(name) {
      for (;;) {
        const lock: Lock = ns.lock(name).ttl(LOCK_TTL_S);
        try {
          await lock.acquire();
          return async () => {
            await lock.release();
          };
        } catch (error) {
          if (!(error instanceof EtcdLockFailedError)) throw error;
          await sleep(POLL_MS);
        }
      }
    },
    async close() {
      client.close();
    },
  };
}

interface Measures {
  /** Sequential acquire+release, ms each (mean). */
  readonly sequentialMs: number;
  /** acquire+release per second with PARALLEL loops on distinct names. */
  readonly parallelPerSecond: number;
  /** release() called → the waiter holds, ms. */
  readonly handoffP50: number;
  readonly contendedP99: number;
  /** Fewest / most acquisitions by one of the contenders (1 = perfectly even). */
  readonly fairness: number;
}

async function measure(open: () => Promise<Locker>): Promise<Measures> {
  const lockers = await Promise.all(Array.from({ length: CONTENDERS }, open));
  const [a, b] = lockers as [Locker, Locker];
  try {
    await (await a.acquire('warm-up'))();
    let start = performance.now();
    for (let i = 0; i < UNCONTENDED_OPS; i++) await (await a.acquire('seq'))();
    const sequentialMs = (performance.now() - start) / UNCONTENDED_OPS;
    start = performance.now();
    await lanes(PARALLEL, async (lane) => {
      for (let i = 0; i < UNCONTENDED_OPS / PARALLEL; i++) await (await a.acquire(`par:${lane}`))();
    });
    const parallelPerSecond = UNCONTENDED_OPS / ((performance.now() - start) / 1000);
    const handoffs: number[] = [];
    for (let i = 0; i < HANDOFFS; i++) {
      const release = await a.acquire('handoff');
      const next = b.acquire('handoff');
      await sleep(20); // b is waiting (queued, or polling)
      const released = performance.now();
      await release();
      const releaseNext = await next;
      handoffs.push(performance.now() - released);
      await releaseNext();
    }
    const waits: number[] = [];
    const counts = lockers.map(() => 0);
    const until = performance.now() + CONTENDED_MS;
    await lanes(CONTENDERS, async (lane) => {
      const locker = lockers[lane] as Locker;
      while (performance.now() < until) {
        const asked = performance.now();
        const release = await locker.acquire('contended');
        waits.push(performance.now() - asked);
        counts[lane] = (counts[lane] ?? 0) + 1;
        await sleep(HOLD_MS);
        await release();
      }
    });
    return {
      sequentialMs,
      parallelPerSecond,
      handoffP50: percentile(handoffs, 50),
      contendedP99: percentile(waits, 99),
      fairness: Math.min(...counts) / Math.max(...counts),
    };
  } finally {
    await Promise.allSettled(lockers.map((l) => l.close()));
  }
}

const ms = (value: number): string => `${value.toFixed(2)} ms`;
const mark = (ok: boolean): string => (ok ? '✓' : '✗');

/** Runs every measure; returns the section's printed lines. */
export async function runEtcd(redisUrl: string): Promise<string[]> {
  const cluster = await startEtcdCluster({ partitionable: false });
  try {
    const hfEtcd = await measure(() => holdfastLocker(cluster.url, 'bench:hf-etcd:'));
    const peer = await measure(async () => etcd3Locker(cluster));
    const hfRedis = await measure(() => holdfastLocker(redisUrl, 'bench:hf-etcd-cmp:'));
    const rows: [string, string, string, string, string][] = [
      ['measure', 'holdfast on etcd', 'etcd3 Lock', 'holdfast on Redis', 'target (etcd vs etcd3 Lock)'],
      [
        'uncontended acquire+release, one loop',
        ms(hfEtcd.sequentialMs),
        ms(peer.sequentialMs),
        ms(hfRedis.sequentialMs),
        `${(peer.sequentialMs / hfEtcd.sequentialMs).toFixed(2)}× (≥ 1.0×) ${mark(peer.sequentialMs >= hfEtcd.sequentialMs)}`,
      ],
      [
        `uncontended, ${PARALLEL} loops in parallel (ops/s)`,
        hfEtcd.parallelPerSecond.toFixed(0),
        peer.parallelPerSecond.toFixed(0),
        hfRedis.parallelPerSecond.toFixed(0),
        `${(hfEtcd.parallelPerSecond / peer.parallelPerSecond).toFixed(2)}× (≥ 1.0×) ${mark(hfEtcd.parallelPerSecond >= peer.parallelPerSecond)}`,
      ],
      [
        'hand-off p50 (release → next holds)',
        ms(hfEtcd.handoffP50),
        ms(peer.handoffP50),
        ms(hfRedis.handoffP50),
        `${(peer.handoffP50 / hfEtcd.handoffP50).toFixed(1)}× faster (≥ 5×) ${mark(peer.handoffP50 >= 5 * hfEtcd.handoffP50)}`,
      ],
      [
        `contended wait p99 (${CONTENDERS} clients, ${HOLD_MS} ms holds)`,
        ms(hfEtcd.contendedP99),
        ms(peer.contendedP99),
        ms(hfRedis.contendedP99),
        `${(peer.contendedP99 / hfEtcd.contendedP99).toFixed(1)}× lower (≥ 3×) ${mark(peer.contendedP99 >= 3 * hfEtcd.contendedP99)}`,
      ],
      [
        'contended fairness (fewest / most acquisitions)',
        hfEtcd.fairness.toFixed(2),
        peer.fairness.toFixed(2),
        hfRedis.fairness.toFixed(2),
        '—',
      ],
    ];
    const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => row[col]?.length ?? 0))) ?? [];
    const lines = rows.map((row) => row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join(' | '));
    return [
      `etcd: a private 3-member cluster (${cluster.url}); etcd3's Lock waits by retrying every ${POLL_MS} ms`,
      ...lines,
    ];
  } finally {
    await cluster.close();
  }
}

/**
 * The etcd section of `npm run bench`: holdfast on a private 3-member etcd cluster (the tests'
 * harness: Debian's etcd-server on loopback, data in memory) against the `etcd3` package's own
 * `Lock` recipe on the same cluster, and holdfast with the same code on the bench's Redis, for
 * the cost per operation of a consensus store. etcd3's Lock cannot wait (acquire rejects when
 * the lock is taken): its waiters retry every POLL_MS, a tight poll that favours it.
 *
 * Every library's clients stay up for the whole section while the libraries take turns for
 * ROUNDS rounds (in a rotated order), each round after its own warm-up, so that a spell of load
 * elsewhere on the machine falls on all of them alike; every figure is the median of its rounds'
 * (a spell of load stalls all 8 contenders at once: pooled, one such spell in one round made
 * the p99 of all three). etcd's own floor (a put's round trip, and put → watch event) is
 * measured in each round too, on the same cluster: with the clients on any member (as etcd3's
 * Lock is), and with both on the leader (as holdfast is).
 * Targets (issue #10): hand-off ≥ 5× faster than etcd3's Lock, contended p99 ≥ 3× lower,
 * uncontended throughput ≥ 1.0×.
 */
import { Etcd3, EtcdLockFailedError, type Lock } from 'etcd3';
import { connect, type Holdfast } from 'holdfast';
import { startEtcdCluster } from '../test/helpers/etcd-cluster.js';
import { type EtcdFloor, type FloorSamples, IDLE_MS, measureEtcdFloor, summarizeFloor } from './etcd-floor.js';
import { lanes, percentile, sleep } from './stats.js';
import { renderTargets, type Target } from './table.js';

const ROUNDS = 3;
const POLL_MS = 10;
const WARM_UP_OPS = 30;
const UNCONTENDED_OPS = 200;
const PARALLEL = 16;
const HANDOFFS = 30;
const CONTENDERS = 8;
const CONTENDED_MS = 3000;
const HOLD_MS = 2;
const FLOOR_SAMPLES = 40;
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

function etcd3Locker(hosts: readonly string[]): Locker {
  const client = new Etcd3({ hosts: [...hosts] });
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

/** What one library measured, over every round. */
interface Samples {
  /** Per round: sequential acquire+release, mean ms. */
  readonly sequentialMs: number[];
  /** Per round: acquire+release per second with PARALLEL loops on distinct names. */
  readonly parallelPerSecond: number[];
  /** Per round: release() called → the waiter holds, ms. */
  readonly handoffs: number[][];
  /** Per round: contended acquire waits, ms. */
  readonly waits: number[][];
  /** Per round: fewest / most acquisitions by one contender (1 = perfectly even). */
  readonly fairness: number[];
}

const newSamples = (): Samples => ({ sequentialMs: [], parallelPerSecond: [], handoffs: [], waits: [], fairness: [] });

async function measureRound(lockers: readonly Locker[], into: Samples, round: number): Promise<void> {
  const [a, b] = lockers as [Locker, Locker];
  const handoffs: number[] = [];
  const waits: number[] = [];
  into.handoffs.push(handoffs);
  into.waits.push(waits);
  for (let i = 0; i < WARM_UP_OPS; i++) await (await a.acquire(`warm-up:${i % 4}`))();
  let start = performance.now();
  for (let i = 0; i < UNCONTENDED_OPS; i++) await (await a.acquire('seq'))();
  into.sequentialMs.push((performance.now() - start) / UNCONTENDED_OPS);
  start = performance.now();
  await lanes(PARALLEL, async (lane) => {
    for (let i = 0; i < UNCONTENDED_OPS / PARALLEL; i++) await (await a.acquire(`par:${lane}`))();
  });
  into.parallelPerSecond.push(UNCONTENDED_OPS / ((performance.now() - start) / 1000));
  for (let i = 0; i < HANDOFFS; i++) {
    const release = await a.acquire('handoff');
    const next = b.acquire('handoff');
    await sleep(IDLE_MS); // b is waiting (queued, or polling)
    const released = performance.now();
    await release();
    const releaseNext = await next;
    handoffs.push(performance.now() - released);
    await releaseNext();
  }
  const counts = lockers.map(() => 0);
  const until = performance.now() + CONTENDED_MS;
  const name = `contended:${round}`;
  await lanes(CONTENDERS, async (lane) => {
    const locker = lockers[lane] as Locker;
    while (performance.now() < until) {
      const asked = performance.now();
      const release = await locker.acquire(name);
      waits.push(performance.now() - asked);
      counts[lane] = (counts[lane] ?? 0) + 1;
      await sleep(HOLD_MS);
      await release();
    }
  });
  into.fairness.push(Math.min(...counts) / Math.max(...counts));
}

const median = (values: readonly number[]): number => percentile(values, 50);
const ms = (value: number): string => `${value.toFixed(2)} ms`;
const mark = (ok: boolean): string => (ok ? '✓' : '✗');

interface Summary {
  readonly sequentialMs: number;
  readonly parallelPerSecond: number;
  readonly handoffP50: number;
  readonly contendedP99: number;
  /** Each round's contended p99, ms. */
  readonly contendedRounds: number[];
  readonly fairness: number;
}

function summarize(s: Samples): Summary {
  return {
    sequentialMs: median(s.sequentialMs),
    parallelPerSecond: median(s.parallelPerSecond),
    handoffP50: median(s.handoffs.map((round) => percentile(round, 50))),
    contendedP99: median(s.waits.map((round) => percentile(round, 99))),
    contendedRounds: s.waits.map((round) => percentile(round, 99)),
    fairness: median(s.fairness),
  };
}

function targets(hf: Summary, peer: Summary, floor: EtcdFloor): Target[] {
  const sequential = peer.sequentialMs / hf.sequentialMs;
  const parallel = hf.parallelPerSecond / peer.parallelPerSecond;
  const handoff = peer.handoffP50 / hf.handoffP50;
  const contended = peer.contendedP99 / hf.contendedP99;
  return [
    {
      text: 'etcd: uncontended acquire+release ≥ 1.0× etcd3 Lock (one loop)',
      met: sequential >= 1,
      detail: `${sequential.toFixed(2)}× (${ms(hf.sequentialMs)} vs ${ms(peer.sequentialMs)})`,
      floor: `a put's round trip p50 ${ms(floor.putP50)} (on the leader ${ms(floor.leaderPutP50)}); holdfast makes 2 writes (acquire, release), etcd3's Lock 3 (lease grant, put, lease revoke)`,
    },
    {
      text: `etcd: uncontended throughput ≥ 1.0× etcd3 Lock (${PARALLEL} loops)`,
      met: parallel >= 1,
      detail: `${parallel.toFixed(2)}× (${hf.parallelPerSecond.toFixed(0)}/s vs ${peer.parallelPerSecond.toFixed(0)}/s)`,
    },
    {
      text: 'etcd: hand-off p50 ≥ 5× faster than etcd3 Lock',
      met: handoff >= 5,
      detail: `${handoff.toFixed(1)}× (${ms(hf.handoffP50)} vs ${ms(peer.handoffP50)})`,
      floor:
        `put after ${IDLE_MS} ms idle → watch event p50 ${ms(floor.watchP50)} on any member, ${ms(floor.leaderWatchP50)} both on the leader: ` +
        `holdfast's hand-off is ${(hf.handoffP50 / floor.leaderWatchP50).toFixed(2)}× the leader's; ` +
        `one at that floor would be ${(peer.handoffP50 / floor.leaderWatchP50).toFixed(1)}× faster than etcd3 Lock here`,
    },
    {
      text: 'etcd: contended wait p99 ≥ 3× lower than etcd3 Lock',
      met: contended >= 3,
      detail:
        `${contended.toFixed(1)}× (${ms(hf.contendedP99)} vs ${ms(peer.contendedP99)}; rounds ` +
        `${hf.contendedRounds.map((x) => x.toFixed(0)).join(' / ')} vs ${peer.contendedRounds.map((x) => x.toFixed(0)).join(' / ')} ms)`,
    },
  ];
}

/** Runs every measure; returns the section's printed lines. */
export async function runEtcd(redisUrl: string): Promise<string[]> {
  const cluster = await startEtcdCluster({ partitionable: false });
  const hosts = cluster.members.map((m) => m.endpoint);
  const contestants: { label: string; lockers: Locker[]; samples: Samples }[] = [];
  try {
    const open = async (label: string, make: () => Promise<Locker>): Promise<void> => {
      const lockers = await Promise.all(Array.from({ length: CONTENDERS }, make));
      contestants.push({ label, lockers, samples: newSamples() });
    };
    await open('holdfast on etcd', () => holdfastLocker(cluster.url, 'bench:hf-etcd:'));
    await open('etcd3 Lock', async () => etcd3Locker(hosts));
    await open('holdfast on Redis', () => holdfastLocker(redisUrl, 'bench:hf-etcd-cmp:'));
    const onAny: FloorSamples = { puts: [], events: [] };
    const onLeader: FloorSamples = { puts: [], events: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const leader = cluster.members[await cluster.leader()]?.endpoint ?? hosts[0] ?? '';
      await measureEtcdFloor(hosts, leader, FLOOR_SAMPLES, onAny, onLeader);
      for (let turn = 0; turn < contestants.length; turn++) {
        const c = contestants[(turn + round) % contestants.length];
        if (c) await measureRound(c.lockers, c.samples, round);
      }
    }
    const floor = summarizeFloor(onAny, onLeader);
    const [hfEtcd, peer, hfRedis] = contestants.map((c) => summarize(c.samples)) as [Summary, Summary, Summary];
    const checked = targets(hfEtcd, peer, floor);
    const verdict = (i: number): string => {
      const t = checked[i];
      return t ? `${t.detail.split(' ')[0]} ${mark(t.met)}` : '';
    };
    const cells = (f: (s: Summary) => string): string[] => [hfEtcd, peer, hfRedis].map(f);
    const rows: string[][] = [
      ['measure', ...contestants.map((c) => c.label), 'etcd vs etcd3 Lock (target)'],
      ['uncontended acquire+release, one loop (mean)', ...cells((s) => ms(s.sequentialMs)), `${verdict(0)} (≥ 1.0×)`],
      [
        `uncontended, ${PARALLEL} loops in parallel (ops/s)`,
        ...cells((s) => s.parallelPerSecond.toFixed(0)),
        `${verdict(1)} (≥ 1.0×)`,
      ],
      ['hand-off p50 (release → next holds)', ...cells((s) => ms(s.handoffP50)), `${verdict(2)} faster (≥ 5×)`],
      [
        `contended wait p99 (${CONTENDERS} clients, ${HOLD_MS} ms holds)`,
        ...cells((s) => ms(s.contendedP99)),
        `${verdict(3)} lower (≥ 3×)`,
      ],
      ['contended fairness (fewest / most acquisitions)', ...cells((s) => s.fairness.toFixed(2)), '—'],
    ];
    const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => row[col]?.length ?? 0))) ?? [];
    const lines = rows.map((row) => row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join(' | '));
    const samples = contestants[0]?.samples;
    return [
      `etcd: a private 3-member cluster (${cluster.url}); etcd3's Lock waits by retrying every ${POLL_MS} ms;`,
      `  medians of ${ROUNDS} rounds, libraries in turn (each round warmed up); ${samples?.handoffs.flat().length} hand-offs and ` +
        `${samples?.waits.flat().length} contended waits of holdfast on etcd; etcd's floor in the same run: ` +
        `a put's round trip p50 ${ms(floor.putP50)}, put after ${IDLE_MS} ms idle → watch event p50 ${ms(floor.watchP50)} ` +
        `(any member, as etcd3 picks); both on the leader: ${ms(floor.leaderPutP50)} and ${ms(floor.leaderWatchP50)}`,
      ...lines,
      'etcd targets (issue #10):',
      renderTargets(checked),
    ];
  } finally {
    await Promise.allSettled(contestants.flatMap((c) => c.lockers.map((l) => l.close())));
    await cluster.close();
  }
}

/**
 * Redis Cluster (`{ cluster: seeds }`) on a private 3-master cluster against holdfast on one
 * private Redis, the same client code on both, all servers pinned to the server core. This
 * 2-core machine cannot show wall-clock scaling; what shows that the design scales is each
 * master's share of the work (≈ 1/3 on names spread over slots) and its Redis CPU per
 * acquire+release (INFO cpu and commandstats per node), which must be no higher than one
 * Redis's. Two workloads: one task in sequence (one script call per operation on both), and
 * 16 tasks in parallel (one Redis coalesces a tick's operations into one call; a cluster can
 * only coalesce those of one slot, coalescer.ts). Hand-off p50 (a release to the waiter
 * holding, the wake-up published on the name's master and heard on the waiter's subscriber
 * node) against one Redis, and the bare pub/sub floors behind the choice of plain PUBLISH
 * over sharded SPUBLISH for wake-ups (README "Redis Cluster").
 */

import calculateSlot from 'cluster-key-slot';
import { connect, type Holdfast } from 'holdfast';
import { Redis } from 'ioredis';
import { type RedisCluster, startRedisCluster } from '../test/helpers/redis-cluster.js';
import { type RedisProcess, startRedis } from '../test/helpers/redis-server.js';
import { pin, SERVER_CPU } from './pin.js';
import { percentile, sleep } from './stats.js';

const NAMES = 96;
const SEQUENTIAL = 3000;
const PARALLEL_TASKS = 16;
const PARALLEL = 6000;
const HANDOFFS = 200;
const PUBSUB_REPS = 300;
const PREFIX = 'bench:cl:';
const IDLE_MS = 3000;

interface NodeStats {
  /** used_cpu_user + used_cpu_sys, seconds. */
  readonly cpu: number;
  /** EVALSHA + EVAL calls. */
  readonly calls: number;
}

export interface WorkloadNumbers {
  /** Per master: its share of the operations, and its CPU µs per acquire+release. */
  readonly masters: readonly { readonly share: number; readonly cpuPerOp: number; readonly callsPerOp: number }[];
  readonly singleCpuPerOp: number;
  readonly singleCallsPerOp: number;
  /** CPU ms per second at rest: one Redis, then each master (subtracted above). */
  readonly idleMs: readonly number[];
}

export interface ClusterNumbers {
  readonly sequential: WorkloadNumbers;
  readonly parallel: WorkloadNumbers;
  readonly singleHandoffP50: number;
  readonly clusterHandoffP50: number;
  /** Bare pub/sub, publisher to subscriber, p50 ms. */
  readonly floors: { readonly single: number; readonly broadcast: number; readonly sharded: number };
}

async function stats(port: number): Promise<NodeStats> {
  const redis = new Redis({ port, host: '127.0.0.1' });
  try {
    const cpu = await redis.info('cpu');
    const commands = await redis.info('commandstats');
    const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0);
    let calls = 0;
    for (const match of commands.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(match[1]);
    return { cpu: field('used_cpu_user') + field('used_cpu_sys'), calls };
  } finally {
    redis.disconnect();
  }
}

/**
 * CPU a server spends per second with nothing to do (its cron; a cluster node's also pings
 * its peers over the cluster bus), measured over IDLE_MS: subtracted from a workload's CPU,
 * so a short, slow workload is not charged for the time it took.
 */
async function idleRates(ports: readonly number[]): Promise<number[]> {
  const before = await Promise.all(ports.map(stats));
  const start = performance.now();
  await sleep(IDLE_MS);
  const seconds = (performance.now() - start) / 1000;
  const after = await Promise.all(ports.map(stats));
  return ports.map((_, i) => ((after[i] as NodeStats).cpu - (before[i] as NodeStats).cpu) / seconds);
}

/** `total` tryAcquire+release pairs by `tasks` tasks over NAMES names; how many each name got. */
async function workload(hf: Holdfast, tasks: number, total: number): Promise<number[]> {
  const perName = new Array<number>(NAMES).fill(0);
  await Promise.all(
    Array.from({ length: tasks }, async (_, task) => {
      for (let i = task; i < total; i += tasks) {
        const index = i % NAMES;
        const lease = await hf.mutex(`n${index}`, { ttl: 10_000, autoExtend: false }).tryAcquire();
        await lease?.release();
        perName[index] = (perName[index] ?? 0) + 1;
      }
    }),
  );
  return perName;
}

async function measureWorkload(
  single: Holdfast,
  singlePort: number,
  clustered: Holdfast,
  cluster: RedisCluster,
  tasks: number,
  total: number,
): Promise<WorkloadNumbers> {
  const masters = await cluster.masters();
  const idle = await idleRates([singlePort, ...masters.map((m) => m.port)]);
  await workload(single, tasks, Math.min(total, 500));
  const s0 = await stats(singlePort);
  let started = performance.now();
  await workload(single, tasks, total);
  const singleSeconds = (performance.now() - started) / 1000;
  const s1 = await stats(singlePort);
  await workload(clustered, tasks, Math.min(total, 500));
  const before = await Promise.all(masters.map((m) => stats(m.port)));
  started = performance.now();
  const perName = await workload(clustered, tasks, total);
  const clusterSeconds = (performance.now() - started) / 1000;
  const after = await Promise.all(masters.map((m) => stats(m.port)));
  const opsOf = await Promise.all(
    masters.map(async (m) => {
      let ops = 0;
      for (let i = 0; i < NAMES; i++) {
        const slot = calculateSlot(`${PREFIX}{n${i}}:h`);
        if ((await cluster.masterOf(slot)).id === m.id) ops += perName[i] ?? 0;
      }
      return ops;
    }),
  );
  const total2 = opsOf.reduce((a, b) => a + b, 0);
  return {
    masters: masters.map((_, i) => {
      const ops = Math.max(1, opsOf[i] ?? 0);
      const b = before[i] as NodeStats;
      const a = after[i] as NodeStats;
      return {
        share: (opsOf[i] ?? 0) / total2,
        cpuPerOp: ((a.cpu - b.cpu - (idle[i + 1] ?? 0) * clusterSeconds) * 1e6) / ops,
        callsPerOp: (a.calls - b.calls) / ops,
      };
    }),
    singleCpuPerOp: ((s1.cpu - s0.cpu - (idle[0] ?? 0) * singleSeconds) * 1e6) / total,
    idleMs: idle.map((rate) => rate * 1000),
    singleCallsPerOp: (s1.calls - s0.calls) / total,
  };
}

/** ms from the holder's release() call to the waiter holding, on `name`. */
async function handoffOnce(a: Holdfast, b: Holdfast, name: string): Promise<number> {
  const held = await a.mutex(name, { ttl: 10_000 }).tryAcquire();
  const waiting = b.mutex(name, { ttl: 10_000 }).acquire({ wait: 10_000 });
  while (((await a.inspect(name))?.waiters.length ?? 0) === 0) await sleep(2);
  const start = performance.now();
  await held?.release();
  const lease = await waiting;
  const ms = performance.now() - start;
  await lease.release();
  return ms;
}

/**
 * Hand-off p50 on one Redis and on the cluster, one of each in turn (so a spell of load falls
 * on both alike), over names on every master.
 */
async function handoffs(pairs: {
  single: [Holdfast, Holdfast];
  cluster: [Holdfast, Holdfast];
}): Promise<[number, number]> {
  const single: number[] = [];
  const clustered: number[] = [];
  for (let i = 0; i < HANDOFFS; i++) {
    const name = `ho${i % 12}`;
    single.push(await handoffOnce(...pairs.single, name));
    clustered.push(await handoffOnce(...pairs.cluster, name));
  }
  return [percentile(single, 50), percentile(clustered, 50)];
}

/** p50 ms from a PUBLISH (or SPUBLISH) on `publisher` to the message on `subscriber`. */
async function pubsubFloor(publisher: Redis, subscriber: Redis, sharded: boolean, channel: string): Promise<number> {
  const event = sharded ? 'smessage' : 'message';
  let resolveNext: (() => void) | null = null;
  subscriber.on(event, () => resolveNext?.());
  await (sharded ? subscriber.ssubscribe(channel) : subscriber.subscribe(channel));
  const samples: number[] = [];
  for (let i = 0; i < PUBSUB_REPS; i++) {
    const arrived = new Promise<void>((resolve) => {
      resolveNext = resolve;
    });
    const start = performance.now();
    await (sharded ? publisher.spublish(channel, 'x') : publisher.publish(channel, 'x'));
    await arrived;
    samples.push(performance.now() - start);
  }
  subscriber.disconnect();
  publisher.disconnect();
  return percentile(samples, 50);
}

async function floors(single: RedisProcess, cluster: RedisCluster): Promise<ClusterNumbers['floors']> {
  const at = (port: number): Redis => new Redis({ port, host: '127.0.0.1' });
  const channel = `${PREFIX}wake:{floor}`;
  const owner = await cluster.masterOf(calculateSlot(channel));
  const other = (await cluster.masters()).find((m) => m.id !== owner.id) ?? owner;
  return {
    single: await pubsubFloor(at(single.port), at(single.port), false, channel),
    // Published on the channel's master, heard on another node: the cluster bus carries it.
    broadcast: await pubsubFloor(at(owner.port), at(other.port), false, channel),
    // Sharded: publisher and subscriber both on the slot's master.
    sharded: await pubsubFloor(at(owner.port), at(owner.port), true, channel),
  };
}

export async function runCluster(): Promise<ClusterNumbers> {
  const [single, cluster] = await Promise.all([startRedis(), startRedisCluster({ masters: 3 })]);
  pin(single.pid, SERVER_CPU);
  for (const node of cluster.nodes) pin(node.process.pid, SERVER_CPU);
  const seeds = [...cluster.urls];
  const clients = await Promise.all([
    connect(single.url, { prefix: PREFIX }),
    connect(single.url, { prefix: PREFIX }),
    connect({ cluster: seeds }, { prefix: PREFIX }),
    connect({ cluster: seeds }, { prefix: PREFIX }),
  ]);
  const [sa, sb, ca, cb] = clients as [Holdfast, Holdfast, Holdfast, Holdfast];
  try {
    const sequential = await measureWorkload(sa, single.port, ca, cluster, 1, SEQUENTIAL);
    const parallel = await measureWorkload(sa, single.port, ca, cluster, PARALLEL_TASKS, PARALLEL);
    const [singleHandoffP50, clusterHandoffP50] = await handoffs({ single: [sa, sb], cluster: [ca, cb] });
    return { sequential, parallel, singleHandoffP50, clusterHandoffP50, floors: await floors(single, cluster) };
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled([single.stop(), cluster.stop()]);
  }
}

const mark = (met: boolean): string => (met ? '✓' : '✗');

function renderWorkload(what: string, n: WorkloadNumbers): string[] {
  const shares = n.masters.map((m) => `${(m.share * 100).toFixed(0)} %`).join(' / ');
  const even = n.masters.every((m) => Math.abs(m.share - 1 / 3) <= 0.1);
  const worst = Math.max(...n.masters.map((m) => m.cpuPerOp));
  const ratio = worst / n.singleCpuPerOp;
  const cpus = n.masters.map((m) => `${m.cpuPerOp.toFixed(0)}`).join(' / ');
  const calls = n.masters.map((m) => m.callsPerOp.toFixed(2)).join(' / ');
  return [
    `  ${what}:`,
    `    share of the work per master: ${shares} (target ≈ 1/3 each, ±10 points) ${mark(even)}`,
    `    Redis CPU per acquire+release: masters ${cpus} µs, one Redis ${n.singleCpuPerOp.toFixed(0)} µs: ` +
      `highest ${ratio.toFixed(2)}× (target ≤ 1×) ${mark(ratio <= 1)}`,
    `    script calls per acquire+release: masters ${calls}, one Redis ${n.singleCallsPerOp.toFixed(2)}; ` +
      `CPU at rest (subtracted): ${n.idleMs.map((v) => v.toFixed(1)).join(' / ')} ms/s (one Redis / masters)`,
  ];
}

export function renderCluster(n: ClusterNumbers): string {
  const ms = (v: number): string => `${v.toFixed(2)} ms`;
  const handoffRatio = n.clusterHandoffP50 / n.singleHandoffP50;
  return [
    `Redis Cluster ({ cluster }, 3 private masters) vs one private Redis, ${NAMES} names over slots, servers on one core:`,
    ...renderWorkload(`${SEQUENTIAL} acquire+release, one task in sequence`, n.sequential),
    ...renderWorkload(`${PARALLEL} acquire+release, ${PARALLEL_TASKS} tasks in parallel`, n.parallel),
    `  hand-off p50: cluster ${ms(n.clusterHandoffP50)}, one Redis ${ms(n.singleHandoffP50)}: ` +
      `${handoffRatio.toFixed(2)}× (target ≤ 1.2×) ${mark(handoffRatio <= 1.2)}`,
    `  pub/sub floors p50: one Redis PUBLISH ${ms(n.floors.single)}; cluster PUBLISH heard on another node ` +
      `${ms(n.floors.broadcast)}; SPUBLISH heard on the slot's master ${ms(n.floors.sharded)}`,
  ].join('\n');
}

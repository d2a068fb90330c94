/**
 * Redis Cluster (`{ cluster: seeds }`) on a private 3-master cluster against holdfast on one
 * private Redis, the same client code on both, all servers pinned to the server core. This
 * 2-core machine cannot show wall-clock scaling; what shows that the design scales is each
 * master's share of the work (≈ 1/3 on names spread over slots) and its Redis CPU per
 * acquire+release (INFO cpu and commandstats per node), which must be no higher than one
 * Redis's. Two workloads: one task in sequence (one script call per operation on both), and
 * 16 tasks in parallel (one Redis coalesces a tick's operations into one call; a cluster only
 * those of one slot, coalescer.ts). Beside each, the floor: the bare pair any Redis lock needs (SET NX
 * PX, then a compare-and-DEL script) on the same names, tasks, pinning and idle subtraction,
 * and the same holdfast workload on names one master serves while the other two stay idle (no
 * turns taken between masters on the server core).
 * Hand-off p50 (a release to the waiter holding: the wake-up SPUBLISHed on the name's master and
 * heard there by the waiting client's shard subscription, src/backends/redis/shard-wakes.ts)
 * against one Redis, and as its floor the same hand-off on names one master serves (no turns
 * taken between the 3 masters on the one server core), and the bare pub/sub floors: PUBLISH on one Redis, PUBLISH heard on another
 * node of the cluster (what a wake-up costs without a shard subscription), SPUBLISH on the slot's
 * master (README "Redis Cluster").
 */

import { createHash } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { connect, type Holdfast } from 'holdfast';
import { Cluster, Redis } from 'ioredis';
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
  /**
   * The floor: the same names and tasks doing the bare pair (SET NX PX, then a compare-and-DEL
   * script), CPU µs per pair on each master and on one Redis.
   */
  readonly bare: { readonly masters: readonly number[]; readonly single: number };
  /**
   * The same holdfast workload on NAMES names that one master serves, the other two idle: its
   * CPU µs per acquire+release there, with no turns taken between masters on the server core.
   */
  readonly oneMasterCpuPerOp: number;
}

export interface ClusterNumbers {
  readonly sequential: WorkloadNumbers;
  readonly parallel: WorkloadNumbers;
  readonly singleHandoffP50: number;
  readonly clusterHandoffP50: number;
  /**
   * The same hand-off on the cluster on names one master serves: what it costs with no turns
   * taken between the 3 masters sharing the server core (the spread's cost on this machine).
   */
  readonly oneMasterHandoffP50: number;
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

/** Runs `total` pairs of `op` by `tasks` tasks over NAMES names; how many each name got. */
async function workload(tasks: number, total: number, op: (index: number) => Promise<unknown>): Promise<number[]> {
  const perName = new Array<number>(NAMES).fill(0);
  await Promise.all(
    Array.from({ length: tasks }, async (_, task) => {
      for (let i = task; i < total; i += tasks) {
        const index = i % NAMES;
        await op(index);
        perName[index] = (perName[index] ?? 0) + 1;
      }
    }),
  );
  return perName;
}

/** The NAMES names the workloads spread over slots. */
const SPREAD = Array.from({ length: NAMES }, (_, i) => `n${i}`);

/** A holdfast tryAcquire+release of `names[index]`. */
const holdfastPair =
  (hf: Holdfast, names: readonly string[] = SPREAD) =>
  async (index: number): Promise<void> => {
    const lease = await hf.mutex(names[index] as string, { ttl: 10_000, autoExtend: false }).tryAcquire();
    await lease?.release();
  };

/** redis-semaphore's mutex pair, the least a Redis lock does: SET NX PX, then compare-and-DEL. */
const BARE_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
const BARE_RELEASE_SHA = createHash('sha1').update(BARE_RELEASE).digest('hex');

/**
 * The bare pair on holdfast's holders key of name `n<index>` (the same slot). The client
 * pipelines what the tasks issue in one tick (per node on a cluster: ioredis's auto-pipelining).
 */
const barePair =
  (client: Redis | Cluster) =>
  async (index: number): Promise<void> => {
    const key = `${PREFIX}{n${index}}:h`;
    await client.set(key, 'token', 'PX', 10_000, 'NX');
    await client.evalsha(BARE_RELEASE_SHA, 1, key, 'token').catch(() => client.eval(BARE_RELEASE, 1, key, 'token'));
  };

/**
 * Redis CPU µs per pair that `op` costs on `ports` (idle CPU, `idle` per s, subtracted), after a
 * warm-up; `opsOn(perName)` says how many pairs each port served.
 */
async function cpuPerOp(
  ports: readonly number[],
  idle: readonly number[],
  tasks: number,
  total: number,
  op: (index: number) => Promise<unknown>,
  opsOn: (perName: readonly number[]) => Promise<number[]>,
): Promise<{ cpuPerOp: number[]; callsPerOp: number[]; perName: number[] }> {
  await workload(tasks, Math.min(total, 500), op);
  const before = await Promise.all(ports.map(stats));
  const started = performance.now();
  const perName = await workload(tasks, total, op);
  const seconds = (performance.now() - started) / 1000;
  const after = await Promise.all(ports.map(stats));
  const ops = await opsOn(perName);
  return {
    perName,
    cpuPerOp: ports.map((_, i) => {
      const cpu = (after[i] as NodeStats).cpu - (before[i] as NodeStats).cpu - (idle[i] ?? 0) * seconds;
      return (cpu * 1e6) / Math.max(1, ops[i] ?? 0);
    }),
    callsPerOp: ports.map(
      (_, i) => ((after[i] as NodeStats).calls - (before[i] as NodeStats).calls) / Math.max(1, ops[i] ?? 0),
    ),
  };
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
  const masterPorts = masters.map((m) => m.port);
  const masterOfName = await Promise.all(
    Array.from({ length: NAMES }, async (_, i) => (await cluster.masterOf(calculateSlot(`${PREFIX}{n${i}}:h`))).id),
  );
  const onMasters = async (perName: readonly number[]): Promise<number[]> =>
    masters.map((m) => perName.reduce((sum, count, i) => sum + (masterOfName[i] === m.id ? count : 0), 0));
  const onSingle = async (perName: readonly number[]): Promise<number[]> => [perName.reduce((a, b) => a + b, 0)];
  const idle = await idleRates([singlePort, ...masterPorts]);
  const idleMasters = idle.slice(1);
  const s = await cpuPerOp([singlePort], idle, tasks, total, holdfastPair(single), onSingle);
  const c = await cpuPerOp(masterPorts, idleMasters, tasks, total, holdfastPair(clustered), onMasters);
  // The floor, with the same tasks, names, pinning and idle subtraction.
  const bareSingle = new Redis({ port: singlePort, host: '127.0.0.1', enableAutoPipelining: true });
  const bareCluster = new Cluster(
    cluster.urls.map((url) => new URL(url)).map((url) => ({ host: url.hostname, port: Number(url.port) })),
    { enableAutoPipelining: true, scaleReads: 'master' },
  );
  try {
    const bs = await cpuPerOp([singlePort], idle, tasks, total, barePair(bareSingle), onSingle);
    const bc = await cpuPerOp(masterPorts, idleMasters, tasks, total, barePair(bareCluster), onMasters);
    const oneMaster = await namesOnOneMaster(cluster, NAMES);
    const one = await cpuPerOp(
      masterPorts.slice(0, 1),
      idleMasters,
      tasks,
      total,
      holdfastPair(clustered, oneMaster),
      onSingle,
    );
    const opsOf = await onMasters(c.perName);
    const all = opsOf.reduce((a, b) => a + b, 0);
    return {
      masters: masters.map((_, i) => ({
        share: (opsOf[i] ?? 0) / all,
        cpuPerOp: c.cpuPerOp[i] ?? 0,
        callsPerOp: c.callsPerOp[i] ?? 0,
      })),
      singleCpuPerOp: s.cpuPerOp[0] ?? 0,
      idleMs: idle.map((rate) => rate * 1000),
      singleCallsPerOp: s.callsPerOp[0] ?? 0,
      bare: { masters: bc.cpuPerOp, single: bs.cpuPerOp[0] ?? 0 },
      oneMasterCpuPerOp: one.cpuPerOp[0] ?? 0,
    };
  } finally {
    bareSingle.disconnect();
    bareCluster.disconnect();
  }
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
 * Hand-off p50 on one Redis, on the cluster over names on every master, and on the cluster over
 * names one master serves, one of each in turn (so a spell of load falls on all alike).
 */
async function handoffs(
  pairs: { single: [Holdfast, Holdfast]; cluster: [Holdfast, Holdfast] },
  oneMasterNames: readonly string[],
): Promise<[number, number, number]> {
  const single: number[] = [];
  const clustered: number[] = [];
  const oneMaster: number[] = [];
  for (let i = 0; i < HANDOFFS; i++) {
    const name = `ho${i % 12}`;
    single.push(await handoffOnce(...pairs.single, name));
    clustered.push(await handoffOnce(...pairs.cluster, name));
    oneMaster.push(await handoffOnce(...pairs.cluster, oneMasterNames[i % oneMasterNames.length] as string));
  }
  return [percentile(single, 50), percentile(clustered, 50), percentile(oneMaster, 50)];
}

/** `count` names whose slot the first master serves. */
async function namesOnOneMaster(cluster: RedisCluster, count: number): Promise<string[]> {
  const [first] = await cluster.masters();
  const names: string[] = [];
  for (let i = 0; names.length < count; i++) {
    const name = `hm${i}`;
    if ((await cluster.masterOf(calculateSlot(`${PREFIX}{${name}}:h`))).id === first?.id) names.push(name);
  }
  return names;
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
    const [singleHandoffP50, clusterHandoffP50, oneMasterHandoffP50] = await handoffs(
      { single: [sa, sb], cluster: [ca, cb] },
      await namesOnOneMaster(cluster, 12),
    );
    return {
      sequential,
      parallel,
      singleHandoffP50,
      clusterHandoffP50,
      oneMasterHandoffP50,
      floors: await floors(single, cluster),
    };
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
  const bareWorst = Math.max(...n.bare.masters);
  const floor = bareWorst / n.bare.single;
  return [
    `  ${what}:`,
    `    share of the work per master: ${shares} (target ≈ 1/3 each, ±10 points) ${mark(even)}`,
    `    Redis CPU per acquire+release: masters ${cpus} µs, one Redis ${n.singleCpuPerOp.toFixed(0)} µs: ` +
      `highest ${ratio.toFixed(2)}× (target ≤ 1×) ${mark(ratio <= 1)}`,
    `      floor here: the bare pair (SET NX PX, compare-and-DEL script; pipelined per tick and node) on the ` +
      `same names: masters ${n.bare.masters.map((v) => v.toFixed(0)).join(' / ')} µs, one Redis ` +
      `${n.bare.single.toFixed(0)} µs: ${floor.toFixed(2)}× (the target ${floor <= 1 ? 'is within' : 'is below'} ` +
      `what cluster mode with 3 masters on one core allows; holdfast is at ${(ratio / floor).toFixed(2)}× of that floor)`,
    `      and the same workload on ${NAMES} names one master serves (the other two idle): ` +
      `${n.oneMasterCpuPerOp.toFixed(0)} µs, ${(n.oneMasterCpuPerOp / n.singleCpuPerOp).toFixed(2)}× one Redis`,
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
    `    floor here: the same hand-off on names one master serves ${ms(n.oneMasterHandoffP50)}, ` +
      `${(n.oneMasterHandoffP50 / n.singleHandoffP50).toFixed(2)}× one Redis: the rest of the spread names' cost is ` +
      `the 3 masters taking turns on this machine's one server core (each master on a core of its own removes it)`,
    `  pub/sub floors p50: one Redis PUBLISH ${ms(n.floors.single)}; cluster PUBLISH heard on another node ` +
      `${ms(n.floors.broadcast)}; SPUBLISH heard on the slot's master ${ms(n.floors.sharded)}`,
  ].join('\n');
}

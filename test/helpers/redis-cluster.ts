/**
 * A throw-away Redis Cluster: N masters (+ R replicas each) as `redis-server` processes with
 * `--cluster-enabled yes` on free loopback ports, each in a temp dir of its own (its
 * nodes.conf survives a restart, its data does not: no persistence), joined with
 * `redis-cli --cluster create`. Start it once per test file. Helpers for faults: kill and
 * restart a node, fail a master over to its replica (CLUSTER FAILOVER), and migrate one slot to
 * another master the way `redis-cli --cluster reshard` does (SETSLOT IMPORTING / MIGRATING,
 * MIGRATE the keys, SETSLOT NODE).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type RedisProcess, startRedis } from './redis-server.js';
import { waitFor } from './wait.js';

/** Short enough that a killed master fails over within seconds; long enough for a loaded machine. */
const NODE_TIMEOUT_MS = 3000;
const SETTLE_TIMEOUT_MS = 60_000;

export interface ClusterNodeProcess {
  readonly port: number;
  readonly url: string;
  readonly process: RedisProcess;
  /** The node's cluster id (40 hex digits). */
  readonly id: string;
}

export interface RedisCluster {
  readonly nodes: readonly ClusterNodeProcess[];
  /** Every node's URL: seeds for `connect({ cluster })`. */
  readonly urls: readonly string[];
  /** The nodes that are masters now (serving at least one slot). */
  masters(): Promise<ClusterNodeProcess[]>;
  /** The master serving `slot` now. */
  masterOf(slot: number): Promise<ClusterNodeProcess>;
  /** A replica of `master` takes over with CLUSTER FAILOVER; resolves once all nodes agree. */
  failover(master: ClusterNodeProcess): Promise<ClusterNodeProcess>;
  /** Moves `slot` with its keys to master `to`; resolves once every master agrees. */
  migrateSlot(slot: number, to: ClusterNodeProcess): Promise<void>;
  /** SIGKILLs the node (a crash). */
  kill(node: ClusterNodeProcess): Promise<void>;
  /** Starts a killed node again (no data, same nodes.conf) and waits for cluster_state:ok. */
  restart(node: ClusterNodeProcess): Promise<void>;
  /**
   * Waits until every running node reports cluster_state:ok and agrees on the slot map, and
   * every running replica has synced with its master.
   */
  settled(): Promise<void>;
  /** Stops every node and removes their directories. */
  stop(): Promise<void>;
}

export interface ClusterShape {
  readonly masters: number;
  readonly replicas?: number;
}

export async function startRedisCluster(shape: ClusterShape): Promise<RedisCluster> {
  const replicas = shape.replicas ?? 0;
  const count = shape.masters * (1 + replicas);
  const dirs: string[] = [];
  const processes: RedisProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'holdfast-cluster-'));
      dirs.push(dir);
      const args = ['--cluster-enabled', 'yes', '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--dir', dir];
      // A replica's full sync starts at once (diskless, without waiting 5 s for other replicas).
      args.push('--cluster-config-file', 'nodes.conf', '--repl-diskless-sync-delay', '0');
      processes.push(await startRedis(args));
    }
    const addresses = processes.map((p) => `127.0.0.1:${p.port}`);
    await redisCli(['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes']);
    const nodes: ClusterNodeProcess[] = [];
    for (const p of processes) {
      const id = String(await admin(p.port, (r) => r.call('CLUSTER', 'MYID')));
      nodes.push({ port: p.port, url: p.url, process: p, id });
    }
    const cluster = handle(nodes, dirs, new Set());
    await cluster.settled();
    await replicasInSync(nodes, shape.masters * replicas);
    return cluster;
  } catch (error) {
    await Promise.allSettled(processes.map((p) => p.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function handle(nodes: readonly ClusterNodeProcess[], dirs: readonly string[], down: Set<number>): RedisCluster {
  const running = (): ClusterNodeProcess[] => nodes.filter((n) => !down.has(n.port));
  const byId = (id: string): ClusterNodeProcess => {
    const node = nodes.find((n) => n.id === id);
    if (!node) throw new Error(`no node with id ${id}`);
    return node;
  };
  const cluster: RedisCluster = {
    nodes,
    urls: nodes.map((n) => n.url),
    async masters() {
      const [first] = running();
      if (!first) throw new Error('no node is running');
      const slots = (await admin(first.port, (r) => r.call('CLUSTER', 'SLOTS'))) as [number, number, ...unknown[]][];
      const ids = new Set(slots.map((range) => String((range[2] as unknown[])[2])));
      return [...ids].map(byId);
    },
    async masterOf(slot) {
      const [first] = running();
      if (!first) throw new Error('no node is running');
      const slots = (await admin(first.port, (r) => r.call('CLUSTER', 'SLOTS'))) as [number, number, ...unknown[]][];
      const range = slots.find(([from, to]) => from <= slot && slot <= to);
      if (!range) throw new Error(`slot ${slot} is not served`);
      return byId(String((range[2] as unknown[])[2]));
    },
    async failover(master) {
      const lines = String(await admin(master.port, (r) => r.call('CLUSTER', 'NODES')));
      const replica = lines
        .split('\n')
        .map((line) => line.split(' '))
        .find((fields) => fields[2]?.includes('slave') && fields[3] === master.id && !fields[2].includes('fail'));
      if (!replica?.[0]) throw new Error(`master ${master.port} has no healthy replica`);
      const promoted = byId(replica[0]);
      await admin(promoted.port, (r) => r.call('CLUSTER', 'FAILOVER'));
      await waitFor(async () => (await cluster.masters()).some((m) => m.id === promoted.id), {
        timeout: SETTLE_TIMEOUT_MS,
        interval: 50,
        what: `replica ${promoted.port} to take over from ${master.port}`,
      });
      await cluster.settled();
      return promoted;
    },
    async migrateSlot(slot, to) {
      const from = await cluster.masterOf(slot);
      if (from.id === to.id) return;
      await admin(to.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id));
      await admin(from.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id));
      for (;;) {
        const keys = (await admin(from.port, (r) => r.call('CLUSTER', 'GETKEYSINSLOT', slot, 1000))) as string[];
        if (keys.length === 0) break;
        // All keys of the slot at once, so the four keys of a name never stand on two nodes.
        await admin(from.port, (r) =>
          r.call('MIGRATE', '127.0.0.1', to.port, '', 0, 10_000, 'REPLACE', 'KEYS', ...keys),
        );
      }
      // The new owner first (it bumps its epoch), then the old one, then everyone else.
      await admin(to.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id));
      await admin(from.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id));
      for (const master of await cluster.masters()) {
        if (master.id !== to.id && master.id !== from.id) {
          await admin(master.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id)).catch(() => {});
        }
      }
      await waitFor(async () => (await cluster.masterOf(slot)).id === to.id, {
        timeout: SETTLE_TIMEOUT_MS,
        interval: 50,
        what: `slot ${slot} to move to ${to.port}`,
      });
      await cluster.settled();
    },
    async kill(node) {
      down.add(node.port);
      await node.process.kill();
    },
    async restart(node) {
      await node.process.restartIfDown();
      down.delete(node.port);
      await cluster.settled();
    },
    async settled() {
      await waitFor(
        async () => {
          const views = await Promise.all(
            running().map(async (n) => {
              const info = String(await admin(n.port, (r) => r.call('CLUSTER', 'INFO')));
              const slots = JSON.stringify(await admin(n.port, (r) => r.call('CLUSTER', 'SLOTS')));
              // A replica counts once it has synced: one that has not cannot take over.
              const replication = await admin(n.port, (r) => r.info('replication'));
              const synced = !/role:slave/.test(replication) || /master_link_status:up/.test(replication);
              return { ok: /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info) && synced, slots };
            }),
          ).catch(() => []);
          return views.length > 0 && views.every((v) => v.ok && v.slots === views[0]?.slots);
        },
        { timeout: SETTLE_TIMEOUT_MS, interval: 100, what: 'every cluster node to report cluster_state:ok' },
      );
    },
    async stop() {
      await Promise.allSettled(nodes.map((n) => n.process.stop()));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** Waits until every node sees `count` replicas and every replica's link to its master is up. */
async function replicasInSync(nodes: readonly ClusterNodeProcess[], count: number): Promise<void> {
  if (count === 0) return;
  await waitFor(
    async () => {
      for (const node of nodes) {
        const lines = String(await admin(node.port, (r) => r.call('CLUSTER', 'NODES'))).split('\n');
        if (lines.filter((line) => / (myself,)?slave /.test(line)).length !== count) return false;
        const info = await admin(node.port, (r) => r.info('replication'));
        if (/role:slave/.test(info) && !/master_link_status:up/.test(info)) return false;
      }
      return true;
    },
    { timeout: SETTLE_TIMEOUT_MS, interval: 100, what: `every node to see ${count} replicas in sync` },
  );
}

/** One command on a fresh, short-lived connection to a node (admin work, not under test). */
export async function admin<T>(port: number, run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}

function redisCli(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      const hint = error.code === 'ENOENT' ? ' (install redis-tools: apt-get install -y redis-tools)' : '';
      reject(new Error(`redis-cli failed to start${hint}: ${error.message}`));
    });
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`redis-cli ${args.join(' ')} exited ${code}:\n${output}`));
    });
  });
}

/** A test file's cluster, started in `before` and stopped in `after`, through a getter. */
export function clusterGetter(holder: { cluster?: RedisCluster }): () => RedisCluster {
  return () => {
    if (!holder.cluster) throw new Error('the cluster has not started (use it inside tests, not at load time)');
    return holder.cluster;
  };
}

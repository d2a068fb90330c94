/**
 * A primary with 2 replicas under 3 sentinels, on free loopback ports, for the Sentinel tests:
 * every process has a temp dir of its own and is stopped by its PID. Sentinels run as
 * `redis-server <conf> --sentinel` (the same binary as `redis-sentinel`, which Debian's
 * redis-sentinel package only links to), so redis-server alone is enough. A missing binary is
 * an error, never a skip.
 *
 * `failover()` (SENTINEL FAILOVER) and `killPrimary()` (SIGKILL, then the sentinels' own
 * election) both return once every sentinel names the new primary and it answers as one.
 */
import { type RedisProcess, startRedis } from './redis-server.js';
import { launchSentinel, MASTER_NAME, type Sentinel, stopSentinel, withAdmin } from './sentinel-process.js';
import { waitFor } from './wait.js';

const SETTLE_TIMEOUT = 60_000;
/** How long a forced failover may take before it counts as aborted, and how often to ask. */
const SWITCH_TIMEOUT = 30_000;
const FAILOVER_ATTEMPTS = 3;

export interface SentinelSet {
  /** The `{ sentinel }` target for connect(). */
  readonly target: { readonly name: string; readonly sentinels: readonly string[] };
  /** redis://127.0.0.1:port of each sentinel. */
  readonly sentinels: readonly string[];
  /** The three data nodes; which one is the primary changes on failover. */
  readonly nodes: readonly RedisProcess[];
  /** The current primary, as every sentinel reports it. */
  primary(): Promise<RedisProcess>;
  /** SENTINEL FAILOVER; resolves with the new primary once every sentinel names it. */
  failover(): Promise<RedisProcess>;
  /** SIGKILLs the primary; resolves with the one the sentinels elect in its place. */
  killPrimary(): Promise<RedisProcess>;
  /** Restarts (empty) every node that is down; the sentinels make them replicas again. */
  heal(): Promise<void>;
  /** Resolves once no sentinel has a failover in progress (one may be started at once then). */
  idle(): Promise<void>;
  /** Resolves once the primary has `count` replicas with their link up. */
  replicasInSync(count?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startSentinelSet(): Promise<SentinelSet> {
  const first = await startRedis();
  const nodes: RedisProcess[] = [first];
  const sentinels: Sentinel[] = [];
  try {
    for (let i = 0; i < 2; i++) nodes.push(await startRedis(['--replicaof', '127.0.0.1', String(first.port)]));
    for (let i = 0; i < 3; i++) sentinels.push(await launchSentinel(first.port));
  } catch (error) {
    await Promise.all([...nodes.map((n) => n.stop()), ...sentinels.map(stopSentinel)]);
    throw error;
  }
  const set = sentinelSet(nodes, sentinels);
  try {
    await settled(sentinels, first.port);
    await set.replicasInSync(2);
  } catch (error) {
    await set.stop();
    throw error;
  }
  return set;
}

function sentinelSet(nodes: RedisProcess[], sentinels: readonly Sentinel[]): SentinelSet {
  const urls = sentinels.map((s) => `redis://127.0.0.1:${s.port}`);
  const nodeAt = (port: number): RedisProcess => {
    const node = nodes.find((n) => n.port === port);
    if (!node) throw new Error(`the sentinels name a primary on port ${port}, which is none of ours`);
    return node;
  };
  const primaryPort = async (): Promise<number> => {
    const ports = await Promise.all(sentinels.map((s) => reportedPrimary(s.port)));
    const [port] = ports;
    if (port === undefined || ports.some((p) => p !== port)) throw new Error(`sentinels disagree: ${ports.join(', ')}`);
    return port;
  };
  const afterSwitch = async (from: number, what: string, timeout = SETTLE_TIMEOUT): Promise<RedisProcess> => {
    await settled(sentinels, null, from, what, timeout);
    const primary = nodeAt(await primaryPort());
    // The sentinels turn a live old primary into a replica only at their next INFO of it (up
    // to 10 s); doing what they will do now keeps a test from waiting for it.
    for (const node of nodes) {
      if (node === primary) continue;
      await withAdmin(node.port, async (admin) => {
        if (/^role:master/m.test(await admin.info('replication'))) {
          await admin.call('REPLICAOF', '127.0.0.1', String(primary.port));
        }
      }).catch(() => {});
    }
    return primary;
  };
  return {
    target: { name: MASTER_NAME, sentinels: urls },
    sentinels: urls,
    nodes,
    primary: async () => nodeAt(await primaryPort()),
    async failover() {
      const from = await primaryPort();
      // A forced failover can abort: another sentinel that has not heard of it yet sees the
      // replica being promoted answer as a primary and turns it back (+convert-to-slave, then
      // -failover-abort-slave-timeout), seen on a loaded machine. Then ask again.
      for (let attempt = 1; ; attempt++) {
        await quiet(sentinels);
        await forceFailover(sentinels);
        try {
          return await afterSwitch(from, 'the forced failover', SWITCH_TIMEOUT);
        } catch (error) {
          if (attempt === FAILOVER_ATTEMPTS) throw error;
        }
      }
    },
    async killPrimary() {
      await quiet(sentinels);
      const from = await primaryPort();
      await nodeAt(from).kill();
      return afterSwitch(from, 'the failover after the primary was killed');
    },
    idle: () => quiet(sentinels),
    async heal() {
      const primary = nodeAt(await primaryPort());
      for (const node of nodes) {
        if (node === primary) continue;
        await node.restartIfDown();
        // A restarted node comes back as an empty primary (or a replica of an old one).
        await withAdmin(node.port, (admin) => admin.call('REPLICAOF', '127.0.0.1', String(primary.port)));
      }
    },
    async replicasInSync(count = 2) {
      await waitFor(
        async () => {
          const port = await primaryPort().catch(() => null);
          if (port === null) return false;
          const info = await withAdmin(port, (admin) => admin.info('replication')).catch(() => '');
          const online = info.match(/^slave\d+:.*state=online/gm) ?? [];
          return /^role:master/m.test(info) && online.length >= count;
        },
        { timeout: SETTLE_TIMEOUT, interval: 100, what: `${count} replicas in sync with the primary` },
      );
    },
    async stop() {
      await Promise.all([...sentinels.map(stopSentinel), ...nodes.map((n) => n.stop())]);
    },
  };
}

/**
 * Waits until every sentinel knows the other two and names one primary (`expected`, or any
 * but `not`) that answers with role master: before that a kill could not reach the quorum.
 */
async function settled(
  sentinels: readonly Sentinel[],
  expected: number | null,
  not?: number,
  what = 'the sentinels to settle',
  timeout = SETTLE_TIMEOUT,
): Promise<void> {
  await waitFor(
    async () => {
      try {
        const states = await Promise.all(sentinels.map((s) => sentinelState(s.port)));
        const ports = new Set(states.map((s) => s.primary));
        const [port] = [...ports];
        if (ports.size !== 1 || port === undefined) return false;
        if (expected !== null && port !== expected) return false;
        if (not !== undefined && port === not) return false;
        if (states.some((s) => s.peers < sentinels.length - 1)) return false;
        return /^role:master/m.test(await withAdmin(port, (admin) => admin.info('replication')));
      } catch {
        return false;
      }
    },
    { timeout, interval: 100, what },
  );
}

/** SENTINEL FAILOVER, asked again while a sentinel says one is still in progress (INPROG). */
async function forceFailover(sentinels: readonly Sentinel[]): Promise<void> {
  await waitFor(
    () =>
      withAdmin(sentinels[0]?.port ?? 0, (admin) => admin.call('SENTINEL', 'FAILOVER', MASTER_NAME)).then(
        () => true,
        (error: unknown) => {
          if (error instanceof Error && error.message.startsWith('INPROG')) return false;
          throw error;
        },
      ),
    { timeout: SETTLE_TIMEOUT, interval: 200, what: 'the sentinel to take a forced failover' },
  );
}

/**
 * Waits until no sentinel has a failover in progress: one ends some seconds after the new
 * primary serves (once the replicas are reconfigured), and a sentinel refuses another till then.
 */
async function quiet(sentinels: readonly Sentinel[]): Promise<void> {
  await waitFor(
    async () => {
      const flags = await Promise.all(
        sentinels.map((s) =>
          withAdmin(s.port, async (admin) => {
            const fields = (await admin.call('SENTINEL', 'MASTER', MASTER_NAME)) as string[];
            return fields[fields.indexOf('flags') + 1] ?? '';
          }).catch(() => 'unknown'),
        ),
      );
      return flags.every((f) => f === 'master');
    },
    { timeout: SETTLE_TIMEOUT, interval: 100, what: 'no failover in progress on any sentinel' },
  );
}

async function sentinelState(port: number): Promise<{ primary: number; peers: number }> {
  return withAdmin(port, async (admin) => {
    const [, primaryPort] = (await admin.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as string[];
    const peers = (await admin.call('SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[];
    return { primary: Number(primaryPort), peers: peers.length };
  });
}

async function reportedPrimary(port: number): Promise<number> {
  return (await sentinelState(port)).primary;
}

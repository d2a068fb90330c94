/**
 * What the Redis backend needs to run on Redis Cluster: the connection (an ioredis `Cluster`),
 * the slot of a key, the masters, and notice of a slot changing master. The algorithm and the
 * Lua are the single-Redis ones: every script touches the keys of one name, which share one
 * hash tag (keys.ts), so each call lives in one slot; what spans names (a coalesced batch,
 * renewals, `list`) is split by slot here and in the backend.
 */
import calculateSlot from 'cluster-key-slot';
import { Cluster, type ClusterNode, type Redis } from 'ioredis';
import { ValidationError } from '../../errors.js';

/** The command connection: one Redis, or a cluster of them. */
export type RedisConnection = Redis | Cluster;

/** Reconnect attempts a queued command waits through before it fails (as on one Redis). */
const MAX_RETRIES_PER_REQUEST = 3;
/**
 * How often a cluster connection of ours re-reads the slot map (CLUSTER SLOTS, a few hundred
 * bytes): a failover is noticed within this even when no command of ours met a MOVED or an
 * error, so the leases of the slots that changed master are checked at once (`watchMasters`).
 */
const SLOTS_REFRESH_MS = 1000;

/**
 * Re-reads `cluster`'s slot map every SLOTS_REFRESH_MS on a timer of ours, until the returned
 * function is called. ioredis's own `slotsRefreshInterval` is left off (0) on every Cluster we
 * open: its next round is armed when a refresh completes, even when it completes with "Cluster
 * is disconnected", so a `disconnect()` that lands during a refresh leaves it re-arming itself
 * forever and the process never exits (seen in this repo's tests). Ours is stopped on close, and
 * unref'd, so it never keeps a process alive either way.
 */
export function refreshSlotsPeriodically(cluster: Cluster): () => void {
  const timer = setInterval(() => {
    if (cluster.status === 'ready') cluster.refreshSlotsCache();
  }, SLOTS_REFRESH_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export function isCluster(connection: RedisConnection): connection is Cluster {
  return connection instanceof Cluster || (connection as { isCluster?: unknown }).isCluster === true;
}

/** The cluster slot (0-16383) of a key: what its hash tag decides. */
export function slotOf(key: string): number {
  return calculateSlot(key);
}

/**
 * `{ cluster: [urls] }` checked before any I/O: one or more `redis://` (or `rediss://`) URLs of
 * seed nodes. Credentials and TLS come from the first URL and hold for every node.
 */
export function parseSeeds(value: unknown): {
  nodes: ClusterNode[];
  username?: string;
  password?: string;
  tls: boolean;
} {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ValidationError('{ cluster } must be a non-empty array of redis:// URLs of cluster nodes');
  }
  const nodes: ClusterNode[] = [];
  let first: URL | undefined;
  for (const item of value) {
    const shown = JSON.stringify(String(item).slice(0, 64));
    let url: URL;
    try {
      if (typeof item !== 'string') throw new Error('not a string');
      url = new URL(item);
    } catch {
      throw new ValidationError(`{ cluster }: ${shown} is not a URL (expected redis://[user:password@]host:port)`);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new ValidationError(`{ cluster }: ${shown} is not a redis:// or rediss:// URL`);
    }
    const port = url.port === '' ? 6379 : Number(url.port);
    if (url.hostname === '' || !(port >= 1 && port <= 65_535)) {
      throw new ValidationError(`{ cluster }: ${shown} names no host, or a port outside 1-65535`);
    }
    if (url.pathname !== '' && url.pathname !== '/' && url.pathname !== '/0') {
      throw new ValidationError(`{ cluster }: ${shown} selects a database; a cluster has only database 0`);
    }
    first ??= url;
    nodes.push({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
  }
  const username = first?.username ? decodeURIComponent(first.username) : undefined;
  const password = first?.password ? decodeURIComponent(first.password) : undefined;
  return {
    nodes,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    tls: first?.protocol === 'rediss:',
  };
}

/**
 * `redis-cluster://[user:password@]host:port[,host:port…]` (or `rediss-cluster://`, TLS) as the
 * seed URLs `{ cluster }` takes: one URL string for the CLI's `--url` and for configuration
 * that holds a single string. Throws ValidationError.
 */
export function seedsOfClusterUrl(url: string): string[] {
  const shown = JSON.stringify(url.slice(0, 64));
  const match = /^(rediss?)-cluster:\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/i.exec(url);
  if (!match) {
    throw new ValidationError(`invalid URL ${shown}: expected redis-cluster://[user:password@]host:port[,host:port…]`);
  }
  const [, scheme = 'redis', auth, hosts = ''] = match;
  const seeds = hosts
    .split(',')
    .map((host) => `${scheme.toLowerCase()}://${auth === undefined ? '' : `${auth}@`}${host}`);
  parseSeeds(seeds);
  return seeds;
}

/**
 * Our own Cluster client. Commands follow MOVED and ASK (ioredis re-reads the slot map on a
 * MOVED and retries), wait in the offline queue through a failover, and `commandTimeout` (on
 * each node's connection) makes a lost reply reject instead of hang. Reads go to masters only:
 * every script writes, and a replica may lag behind.
 */
export function openCluster(seeds: unknown, commandTimeout: number): Cluster {
  const { nodes, username, password, tls } = parseSeeds(seeds);
  return new Cluster(nodes, {
    scaleReads: 'master',
    enableOfflineQueue: true,
    // Our own timer refreshes instead (refreshSlotsPeriodically): see there why.
    slotsRefreshInterval: 0,
    slotsRefreshTimeout: Math.max(1000, commandTimeout),
    redisOptions: {
      maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
      commandTimeout,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...(tls ? { tls: {} } : {}),
    },
  });
}

/** The master connections of a cluster as it knows them now. */
export function mastersOf(cluster: Cluster): Redis[] {
  return cluster.nodes('master');
}

/** Items grouped by the slot of the key `keyOf` gives, in first-seen order of slots. */
export function bySlot<T>(items: readonly T[], keyOf: (item: T) => string): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  items.forEach((item, index) => {
    const slot = slotOf(keyOf(item));
    const group = groups.get(slot);
    if (group) group.push(index);
    else groups.set(slot, [index]);
  });
  return groups;
}

/**
 * Calls `onChange` with the slots whose master changed (a failover, a slot migrated) each time
 * the client re-reads the slot map: after a MOVED, and every SLOTS_REFRESH_MS on our timer (on
 * the application's own Cluster too, whatever its `slotsRefreshInterval`). Replication is asynchronous: a master that failed over may
 * not have passed its latest writes on, so a lease granted just before may be gone on the new
 * master. The backend hands the slots to the client, which renews the leases of those slots at
 * once: a renewal that finds its lease gone aborts `lease.signal` (LeaseLostError) now, not at
 * the lease's next renewal. Returns a function that stops watching.
 */
export function watchMasters(cluster: Cluster, onChange: (slots: ReadonlySet<number>) => void): () => void {
  let known: readonly (string | undefined)[] = masterBySlot(cluster);
  const refreshed = (): void => {
    const now = masterBySlot(cluster);
    const changed = new Set<number>();
    for (let slot = 0; slot < now.length; slot++) {
      // A slot seen for the first time (the map was still empty) is no change.
      if (known[slot] !== undefined && now[slot] !== known[slot]) changed.add(slot);
    }
    known = now;
    if (changed.size > 0) onChange(changed);
  };
  cluster.on('refresh', refreshed);
  const stopRefreshing = refreshSlotsPeriodically(cluster);
  return () => {
    stopRefreshing();
    cluster.off('refresh', refreshed);
  };
}

function masterBySlot(cluster: Cluster): (string | undefined)[] {
  return Array.from({ length: 16_384 }, (_, slot) => cluster.slots[slot]?.[0]);
}

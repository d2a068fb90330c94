/**
 * `list(pattern)` on Redis: SCAN (never KEYS) for the data keys of matching names, then one
 * pipelined check of which names are live. On a cluster SCAN sees one node's keys only, so
 * every master is scanned (replicas hold copies of the same keys), and the liveness check goes
 * out as one pipeline per slot, all at once.
 */
import type { Redis } from 'ioredis';
import { bySlot, isCluster, mastersOf, type RedisConnection } from './cluster.js';
import { dataKeyPattern, nameKeys, nameOfDataKey, soleExpiry } from './keys.js';

const SCAN_COUNT = 500;

export interface Listing {
  readonly client: RedisConnection;
  readonly prefix: string;
  /** The test clock's µs, or null to read the server's TIME. */
  readonly testNow: () => number | null;
  /** One round trip, under the command timeout. */
  readonly bound: <T>(sent: Promise<T>) => Promise<T>;
}

export async function listNames(listing: Listing, pattern: string): Promise<string[]> {
  const { client, prefix } = listing;
  // SCAN MATCH and its results are not touched by an ioredis keyPrefix; commands on keys are.
  const base = (client.options.keyPrefix ?? '') + prefix;
  const match = dataKeyPattern(base, pattern);
  const nodes: readonly Redis[] = isCluster(client) ? mastersOf(client) : [client];
  const names = new Set<string>();
  await Promise.all(nodes.map((node) => scanNode(listing, node, match, base, names)));
  if (names.size === 0) return [];
  const sorted = [...names].sort();
  if (!isCluster(client)) return liveNames(listing, client, sorted);
  const groups = [...bySlot(sorted, (name) => nameKeys(prefix, name)[0]).values()];
  const live = await Promise.all(
    groups.map((indexes) =>
      liveNames(
        listing,
        client,
        indexes.map((index) => sorted[index] as string),
      ),
    ),
  );
  return live.flat().sort();
}

async function scanNode(listing: Listing, node: Redis, match: string, base: string, names: Set<string>): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await listing.bound(node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT));
    cursor = next;
    for (const key of keys) {
      const name = nameOfDataKey(base, key);
      if (name !== null) names.add(name);
    }
  } while (cursor !== '0');
}

/**
 * A name is live while its latest holder or waiter expiry lies ahead of the server's now (on a
 * cluster, the clock of the node that holds the names: TIME rides in the same pipeline). A
 * sole holder has its expiry in the data hash's `fence` field (keys.ts).
 */
async function liveNames(listing: Listing, client: RedisConnection, names: readonly string[]): Promise<string[]> {
  // On a cluster the pipeline goes to the node of its keys' slot, keyless TIME included.
  const pipeline = client.pipeline().time();
  const skip = 0;
  for (const name of names) {
    const [holders, , waiters, data] = nameKeys(listing.prefix, name);
    pipeline.zrange(holders, -1, -1, 'WITHSCORES').zrange(waiters, -1, -1, 'WITHSCORES').hget(data, 'fence');
  }
  const replies = (await listing.bound(pipeline.exec())) ?? [];
  const values = replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
  const [sec, usec] = (values[skip] ?? []) as string[];
  const testNow = listing.testNow();
  const now = testNow === null ? Number(sec) * 1000 + Number(usec) / 1000 : testNow / 1000;
  const latest = (index: number): number => Number((values[skip + index] as string[] | undefined)?.[1] ?? 0);
  const sole = (index: number): number => soleExpiry((values[skip + index] as string | null | undefined) ?? null) ?? 0;
  return names.filter((_, i) => latest(1 + 3 * i) > now || latest(2 + 3 * i) > now || sole(3 + 3 * i) > now);
}

import type { HolderInfo, LockState, WaiterInfo } from '../../backend.js';
import { decodeOwner } from '../../owner.js';
import { globToRegExp } from '../../util/glob.js';
import { LOCK_SPACE, parseKey, rangeEnd } from './keys.js';
import type { QueueKey } from './queue.js';
import { grantedCount } from './queue.js';
import type { EtcdRpc } from './rpc.js';

/**
 * What `inspect` shows of a name's queue. A holder expires on the cluster with its client's
 * lease, so `expiresIn` is that lease's time to live (its client renews the lease while it runs,
 * and frees a holder it stops renewing at the holder's own ttl).
 */
export async function describeState(rpc: EtcdRpc, name: string, keys: readonly QueueKey[]): Promise<LockState | null> {
  const first = keys[0];
  if (!first) return null;
  const granted = grantedCount(keys);
  const leases = [...new Set(keys.slice(0, granted).map((k) => k.lease))];
  const ttls = new Map(await Promise.all(leases.map(async (id) => [id, await rpc.timeToLive(id)] as const)));
  const holders: HolderInfo[] = keys.slice(0, granted).map((k) => ({
    fence: k.createRevision,
    permits: k.entry.permits,
    // The cluster says whole seconds, rounded down: the lease runs out within the next one.
    expiresIn: Math.max(0, Math.min(k.entry.ttl, ((ttls.get(k.lease) ?? -1) + 1) * 1000)),
    owner: decodeOwner(k.entry.owner),
  }));
  const waiters: WaiterInfo[] = keys.slice(granted).map((k) => ({
    permits: k.entry.permits,
    owner: decodeOwner(k.entry.owner),
  }));
  return { name, kind: first.entry.kind, limit: first.entry.limit, holders, waiters };
}

/** Names with a holder or waiter under `prefix` that match the glob `pattern`, sorted. */
export async function listNames(rpc: EtcdRpc, prefix: string, pattern: string): Promise<string[]> {
  const base = Buffer.from(prefix + LOCK_SPACE);
  const kvs = await rpc.range(base, rangeEnd(base), 'list', true);
  const match = globToRegExp(pattern);
  const names = new Set<string>();
  for (const kv of kvs) {
    const parsed = parseKey(prefix, kv.key.toString());
    if (parsed && match.test(parsed.name)) names.add(parsed.name);
  }
  return [...names].sort();
}

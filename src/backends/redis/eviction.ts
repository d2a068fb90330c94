/**
 * Every key holdfast writes has a TTL, so a Redis whose `maxmemory-policy` evicts keys
 * (`allkeys-*`, and `volatile-*`, which evicts exactly the keys with a TTL) can delete a held
 * lock under memory pressure: another client then acquires it while the holder still believes
 * it holds. `connect()` refuses such a Redis unless `allowEviction: true` says the risk is known.
 */
import type { Redis } from 'ioredis';
import { BackendError } from '../../errors.js';
import { isCluster, type RedisConnection } from './cluster.js';
import { whereOf, withTimeout } from './connection.js';

/** Whether Redis may evict keys that have a TTL under this policy. */
export function evicts(policy: string): boolean {
  return policy !== 'noeviction' && policy !== '';
}

/** The `maxmemory_policy` line of INFO memory text, or null when absent. */
export function policyOf(info: string): string | null {
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? null;
}

/**
 * Rejects with a BackendError naming the policy when it evicts, on any master of a cluster
 * (each node has its own configuration). INFO may be refused (an ACL without it, a managed
 * Redis): then nothing can be told here, and `holdfast doctor` says so.
 */
export async function refuseEviction(client: RedisConnection, timeout: number): Promise<void> {
  if (!isCluster(client)) return refuseOn(client, timeout);
  await readyCluster(client, timeout);
  await Promise.all(client.nodes('master').map((node) => refuseOn(node, timeout)));
}

/** Resolves once a cluster client has read the slot map (its masters are known), or at `timeout`. */
async function readyCluster(cluster: RedisConnection & { status: string }, timeout: number): Promise<void> {
  if (cluster.status === 'ready') return;
  await withTimeout(
    new Promise<void>((resolve) => cluster.once('ready', () => resolve())),
    timeout,
    `connecting to ${whereOf(cluster)}`,
  ).catch(() => {});
}

async function refuseOn(client: Redis, timeout: number): Promise<void> {
  const where = whereOf(client);
  let info: string;
  try {
    info = await withTimeout(client.info('memory'), timeout, 'INFO memory');
  } catch {
    return;
  }
  const policy = policyOf(info);
  if (policy === null || !evicts(policy)) return;
  throw new BackendError(
    `Redis at ${where} has maxmemory-policy ${policy}: it may evict lock keys (every one has a TTL), ` +
      'and a held lock would vanish. Set maxmemory-policy noeviction, or connect with ' +
      '{ allowEviction: true } to accept the risk',
  );
}

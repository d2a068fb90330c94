/**
 * Every key holdfast writes has a TTL, so a Redis whose `maxmemory-policy` evicts keys
 * (`allkeys-*`, and `volatile-*`, which evicts exactly the keys with a TTL) can delete a held
 * lock under memory pressure: another client then acquires it while the holder still believes
 * it holds. `connect()` refuses such a Redis unless `allowEviction: true` says the risk is known.
 */
import type { Redis } from 'ioredis';
import { BackendError } from '../../errors.js';
import { withTimeout } from './connection.js';

/** Whether Redis may evict keys that have a TTL under this policy. */
export function evicts(policy: string): boolean {
  return policy !== 'noeviction' && policy !== '';
}

/** The `maxmemory_policy` line of INFO memory text, or null when absent. */
export function policyOf(info: string): string | null {
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? null;
}

/**
 * Rejects with a BackendError naming the policy when it evicts. INFO may be refused (an ACL
 * without it, a managed Redis): then nothing can be told here, and `holdfast doctor` says so.
 */
export async function refuseEviction(client: Redis, where: string, timeout: number): Promise<void> {
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

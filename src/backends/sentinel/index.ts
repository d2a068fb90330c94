/**
 * The `{ sentinel: { name, sentinels } }` backend (or `redis-sentinel://h:p,h:p/NAME`): the Redis backend (same scripts, same
 * algorithm) on an ioredis connection that asks the sentinels where the primary is, and asks
 * again when it fails over:
 *
 * - `failoverDetector`: every connection (commands, and the subscriber it duplicates) listens
 *   for the sentinels' `+switch-master` and reconnects to the new primary at once;
 * - `reconnectOnError` on READONLY: a demoted primary that still holds our connection refuses
 *   writes; we reconnect (through the sentinels) and resend the command, which did nothing on
 *   the replica (its first write was refused, so the script changed nothing);
 * - the subscriber's reconnect re-subscribes and resyncs the client (connection.ts): waiters ask
 *   again, re-joining queues the new primary may not have, and every lease is renewed at once;
 *   a renewal that finds its lease gone (granted on the old primary, never replicated) aborts
 *   `lease.signal` with a LeaseLostError (reason 'refused');
 * - while the primary cannot be reached (failing over), waiters keep their turn (failover.ts).
 */
import type { RedisOptions } from 'ioredis';
import type { Backend, BackendContext } from '../../backend.js';
import { commandTimeoutOf } from '../options.js';
import { createRedisBackend } from '../redis/create.js';
import type { ConnectTarget, OpenOptions } from '../registry.js';
import { FailoverTolerantBackend } from './failover.js';
import { parseSentinelTarget, type SentinelSettings, sentinelTargetOfUrl } from './target.js';

export type { SentinelOptions, SentinelTarget } from './target.js';

export async function open(target: ConnectTarget, context: BackendContext, options: OpenOptions): Promise<Backend> {
  const settings = parseSentinelTarget(typeof target === 'string' ? sentinelTargetOfUrl(target) : target);
  const commandTimeout = commandTimeoutOf(options);
  const redis = await createRedisBackend({ options: redisOptions(settings, commandTimeout) }, context, {
    commandTimeout,
    // a first connection asks a sentinel, then connects to the primary: on a loaded machine
    // that alone took more than the 2 s command timeout
    connectTimeout: Math.max(FIRST_CONNECT_MS, commandTimeout),
    allowEviction: options.allowEviction === true,
  });
  return new FailoverTolerantBackend(redis);
}

const FIRST_CONNECT_MS = 10_000;

/** Re-resolving the primary through the sentinels: quickly at first, then once a second. */
const sentinelRetry = (attempt: number): number => Math.min(attempt * 100, 1000);

export function redisOptions(settings: SentinelSettings, commandTimeout: number): RedisOptions {
  return {
    name: settings.name,
    sentinels: settings.sentinels.map(({ host, port }) => ({ host, port })),
    ...(settings.username === undefined ? {} : { username: settings.username }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
    ...(settings.sentinelPassword === undefined ? {} : { sentinelPassword: settings.sentinelPassword }),
    ...(settings.db === undefined ? {} : { db: settings.db }),
    role: 'master',
    failoverDetector: true,
    sentinelCommandTimeout: commandTimeout,
    sentinelRetryStrategy: sentinelRetry,
    // 2: reconnect, then send the refused command again
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  };
}

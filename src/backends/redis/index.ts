/** The redis:// and rediss:// backend module (one Redis, or a Redis Cluster), loaded by connect() through the registry. */
import type { Cluster, Redis } from 'ioredis';
import type { Backend, BackendContext } from '../../backend.js';
import { ValidationError } from '../../errors.js';
import type { ConnectTarget, OpenOptions } from '../registry.js';
import { parseSeeds, seedsOfClusterUrl } from './cluster.js';
import { createRedisBackend, type RedisTarget } from './create.js';

export { createRedisBackend, type RedisBackendOptions, type RedisTarget } from './create.js';

/**
 * `redis://…`, `rediss://…` (TLS), `{ cluster: ['redis://host:port', …] }` (seed nodes of a
 * Redis Cluster) or the same as one URL, `redis-cluster://host:port,host:port` (`rediss-cluster://`), or `{ redis: client }` with an ioredis `Redis` or `Cluster` (which holdfast
 * will not close).
 */
export async function open(target: ConnectTarget, context: BackendContext, options: OpenOptions): Promise<Backend> {
  const timeout = options.commandTimeout === undefined ? {} : { commandTimeout: options.commandTimeout };
  return createRedisBackend(targetOf(target), context, { ...timeout, allowEviction: options.allowEviction === true });
}

function targetOf(target: ConnectTarget): RedisTarget {
  if (typeof target === 'string') {
    return /^rediss?-cluster:/i.test(target) ? { cluster: seedsOfClusterUrl(target) } : { url: target };
  }
  if ('cluster' in target) {
    // Checked here, before any I/O (openCluster checks again when called directly).
    parseSeeds(target.cluster);
    return { cluster: target.cluster };
  }
  return { client: redisOf(target) };
}

function redisOf(target: ConnectTarget): Redis | Cluster {
  const client = (target as { redis?: unknown }).redis;
  const looksLikeRedis =
    client !== null && typeof client === 'object' && typeof (client as { evalsha?: unknown }).evalsha === 'function';
  if (!looksLikeRedis) throw new ValidationError('{ redis } must be an ioredis client (a Redis or a Cluster)');
  return client as Redis | Cluster;
}

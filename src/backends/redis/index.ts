/** The redis:// and rediss:// backend module, loaded by connect() through the registry. */
import type { Redis } from 'ioredis';
import type { Backend, BackendContext } from '../../backend.js';
import { ValidationError } from '../../errors.js';
import type { ConnectTarget, OpenOptions } from '../registry.js';
import { createRedisBackend } from './backend.js';

export { createRedisBackend, type RedisBackendOptions, type RedisTarget } from './backend.js';

/** `redis://…`, `rediss://…` (TLS), or `{ redis: ioredisClient }` (which holdfast will not close). */
export async function open(target: ConnectTarget, context: BackendContext, options: OpenOptions): Promise<Backend> {
  const timeout = options.commandTimeout === undefined ? {} : { commandTimeout: options.commandTimeout };
  const redisTarget = typeof target === 'string' ? { url: target } : { client: redisOf(target) };
  return createRedisBackend(redisTarget, context, { ...timeout, allowEviction: options.allowEviction === true });
}

function redisOf(target: ConnectTarget): Redis {
  const client = (target as { redis?: unknown }).redis;
  const looksLikeRedis =
    client !== null && typeof client === 'object' && typeof (client as { evalsha?: unknown }).evalsha === 'function';
  if (!looksLikeRedis) throw new ValidationError('{ redis } must be an ioredis client');
  return client as Redis;
}

/**
 * One fault test's world: its own redis-server, an admin connection to poke at it, and a list
 * of things to undo (clients, child processes) that runs in reverse when the test ends,
 * whatever happened.
 */
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import type { ConnectOptions, Holdfast } from '../../src/index.js';
import type { Child } from '../helpers/child.js';
import { type RedisProcess, startRedis } from '../helpers/redis-server.js';
import { testScope } from '../helpers/test-scope.js';

export interface World {
  readonly redis: RedisProcess;
  /** A plain connection for test-side commands (CLIENT LIST, SCRIPT FLUSH, …). */
  readonly admin: Redis;
  readonly prefix: string;
  /** A holdfast client on this world's server, closed when the test ends. */
  client(options?: Omit<ConnectOptions, 'prefix'>): Promise<Holdfast>;
  /** A child process, SIGKILLed when the test ends. */
  spawn(script: URL, args: readonly string[]): Promise<Child>;
}

const PREFIX = 'fault:';

export async function world(t: TestContext): Promise<World> {
  const scope = testScope(t);
  const redis = await startRedis();
  scope.defer(() => redis.stop());
  const admin = new Redis(redis.url);
  // The fault tests kill this server on purpose; ioredis reports that as an error event.
  admin.on('error', () => {});
  scope.defer(async () => admin.disconnect());
  return {
    redis,
    admin,
    prefix: PREFIX,
    client: (options = {}) => scope.client(redis.url, { ...options, prefix: PREFIX }),
    spawn: (script, args) => scope.spawn(script, args),
  };
}

/** The clock every process on this machine shares (ms, monotonic: see test/helpers/machine-clock.ts). */
export { machineNow as wallNow } from '../helpers/machine-clock.js';

/** Connections in pub/sub mode, from `CLIENT LIST`: the wake-up subscribers. */
export async function subscribers(admin: Redis): Promise<string[]> {
  const list = (await admin.call('CLIENT', 'LIST')) as string;
  return list
    .split('\n')
    .map((line) => Object.fromEntries(line.split(' ').map((pair) => pair.split('=', 2))) as Record<string, string>)
    .filter((fields) => Number(fields.sub ?? 0) > 0 || (fields.flags ?? '').includes('P'))
    .map((fields) => fields.id ?? '');
}

/**
 * Where the recipe suites run: clients on one backend plus a cache store they all share. Memory
 * runs on the real clock (recipes use wall-clock cron times and real timers); Redis worlds live
 * under their own random key prefix on one spawned redis-server.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { ClosedError, connect, type Holdfast, MemoryStore } from '../../src/index.js';
import { type CacheStore, memoryCacheStore, redisCacheStore } from '../../src/recipes/index.js';
import type { RedisProcess } from '../helpers/redis-server.js';

export interface RecipeWorld {
  readonly backend: 'memory' | 'redis';
  /** The key prefix of the Redis world's clients ('' on memory). */
  readonly prefix: string;
  /** A new client on the world's backend. */
  connect(): Promise<Holdfast>;
  /** One cache store shared by every client of the world. */
  readonly store: CacheStore;
  /** Closes every client (and connection) the world made. */
  close(): Promise<void>;
}

export type RecipeWorldFactory = () => Promise<RecipeWorld>;

async function closeAll(clients: readonly Holdfast[]): Promise<void> {
  const results = await Promise.allSettled(clients.map((client) => client.close()));
  for (const result of results) {
    if (result.status === 'rejected' && !(result.reason instanceof ClosedError)) throw result.reason;
  }
}

export const memoryRecipeWorld: RecipeWorldFactory = async () => {
  const backend = new MemoryStore();
  const clients: Holdfast[] = [];
  // The memory backend's timers are unref'd: with nothing else pending, node:test would see an
  // empty event loop while a test awaits a wait timeout, and cancel it.
  const keepAlive = setInterval(() => {}, 1000);
  return {
    backend: 'memory',
    prefix: '',
    async connect() {
      const client = await connect({ memory: backend });
      clients.push(client);
      return client;
    },
    store: memoryCacheStore(),
    async close() {
      clearInterval(keepAlive);
      await closeAll(clients);
    },
  };
};

export function redisRecipeWorld(server: () => RedisProcess): RecipeWorldFactory {
  return async () => {
    const { url } = server();
    const prefix = `recipes-${randomBytes(6).toString('hex')}:`;
    const redis = new Redis(url);
    const clients: Holdfast[] = [];
    return {
      backend: 'redis',
      prefix,
      async connect() {
        const client = await connect(url, { prefix });
        clients.push(client);
        return client;
      },
      store: redisCacheStore(redis, { prefix: `${prefix}cache:` }),
      async close() {
        await closeAll(clients);
        await redis.quit();
      },
    };
  };
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

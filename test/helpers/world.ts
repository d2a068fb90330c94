/**
 * The world a contract test runs in: one shared backend, any number of clients on it, and a way
 * to let time pass. The memory world runs on a fake clock (time passes only when told); the
 * Redis world on the real one, so the contract suites use short TTLs and wait on events.
 */
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { ClosedError, connect, type Holdfast, MemoryStore } from '../../src/index.js';
import { FakeClock } from '../../src/testing/index.js';
import type { RedisCluster } from './redis-cluster.js';
import { type RedisProcess, startRedis } from './redis-server.js';
import { sleep } from './wait.js';

export interface WorldConnectOptions {
  readonly waiterTtl?: number;
}

export interface World {
  readonly backend: 'memory' | 'redis' | 'etcd';
  /** true when time only passes through `advance` (a fake clock). */
  readonly fake: boolean;
  /** A new client on the world's shared backend. */
  connect(options?: WorldConnectOptions): Promise<Holdfast>;
  /** Lets `ms` pass: on a fake clock at once, on a real one by waiting. */
  advance(ms: number): Promise<void>;
  /** Closes every client this world made. */
  close(): Promise<void>;
}

export type WorldFactory = () => Promise<World>;

function clientOptions(options: WorldConnectOptions, prefix?: string): { prefix?: string; waiterTtl?: number } {
  return {
    ...(prefix === undefined ? {} : { prefix }),
    ...(options.waiterTtl === undefined ? {} : { waiterTtl: options.waiterTtl }),
  };
}

async function closeAll(clients: readonly Holdfast[]): Promise<void> {
  const results = await Promise.allSettled(clients.map((client) => client.close()));
  for (const result of results) {
    // A test may have closed a client itself already.
    if (result.status === 'rejected' && !(result.reason instanceof ClosedError)) throw result.reason;
  }
}

/** A fresh in-process backend on a fake clock per world. */
export const memoryWorld: WorldFactory = async () => {
  const clock = new FakeClock();
  const store = new MemoryStore({ clock });
  const clients: Holdfast[] = [];
  return {
    backend: 'memory',
    fake: true,
    async connect(options = {}) {
      const client = await connect({ memory: store }, clientOptions(options));
      clients.push(client);
      return client;
    },
    advance: (ms) => clock.advance(ms),
    close: () => closeAll(clients),
  };
};

/** Worlds on one Redis server, each under its own random key prefix so they never meet. */
export function redisWorld(server: () => RedisProcess): WorldFactory {
  return async () => {
    const { url } = server();
    const prefix = `test-${randomBytes(6).toString('hex')}:`;
    const clients: Holdfast[] = [];
    return {
      backend: 'redis',
      fake: false,
      async connect(options = {}) {
        const client = await connect(url, clientOptions(options, prefix));
        clients.push(client);
        return client;
      },
      advance: (ms) => sleep(ms),
      close: () => closeAll(clients),
    };
  };
}

/** Worlds on one Redis Cluster (connect({ cluster: seeds })), each under its own prefix. */
export function redisClusterWorld(cluster: () => RedisCluster): WorldFactory {
  return async () => {
    const seeds = [...cluster().urls];
    const prefix = `test-${randomBytes(6).toString('hex')}:`;
    const clients: Holdfast[] = [];
    return {
      backend: 'redis',
      fake: false,
      async connect(options = {}) {
        const client = await connect({ cluster: seeds }, clientOptions(options, prefix));
        clients.push(client);
        return client;
      },
      advance: (ms) => sleep(ms),
      close: () => closeAll(clients),
    };
  };
}

/**
 * Starts one redis-server for the calling test file (in `before`, stopped in `after`) and
 * returns it through a getter, since it exists only once the hooks ran.
 */
export function useRedisServer(): () => RedisProcess {
  let server: RedisProcess | undefined;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('the redis-server has not started (use it inside tests, not at load time)');
    return server;
  };
}

/**
 * N independent redis-servers for the quorum backend, started by the calling test file, and
 * contract worlds on them (a fresh key prefix per world).
 */
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { ClosedError, connect, type Holdfast } from '../../src/index.js';
import { type RedisProcess, startRedis } from './redis-server.js';
import { sleep } from './wait.js';
import type { WorldFactory } from './world.js';

export function useRedisNodes(count: number): () => readonly RedisProcess[] {
  let nodes: RedisProcess[] = [];
  before(async () => {
    nodes = await Promise.all(Array.from({ length: count }, () => startRedis()));
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  });
  return () => {
    if (nodes.length === 0) throw new Error('the redis-servers have not started (use them inside tests)');
    return nodes;
  };
}

export function newPrefix(): string {
  return `q-${randomBytes(6).toString('hex')}:`;
}

/** Contract worlds on a quorum of `nodes()`, each under its own prefix. */
export function quorumWorld(nodes: () => readonly RedisProcess[]): WorldFactory {
  return async () => {
    const urls = nodes().map((node) => node.url);
    const prefix = newPrefix();
    const clients: Holdfast[] = [];
    return {
      backend: 'redis',
      fake: false,
      async connect(options = {}) {
        const client = await connect(
          { redlock: urls },
          { prefix, ...(options.waiterTtl === undefined ? {} : { waiterTtl: options.waiterTtl }) },
        );
        clients.push(client);
        return client;
      },
      advance: (ms) => sleep(ms),
      async close() {
        const results = await Promise.allSettled(clients.map((client) => client.close()));
        for (const result of results) {
          if (result.status === 'rejected' && !(result.reason instanceof ClosedError)) throw result.reason;
        }
      },
    };
  };
}

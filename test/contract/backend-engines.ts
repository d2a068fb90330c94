/**
 * The engines the backend conformance suite runs on here: memory (a fake clock), Redis (a
 * spawned redis-server, a key prefix per engine) and holdfast:// (an in-process server per
 * engine, state in memory, clients over TCP). A new backend's engine is written the same way.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemoryBackend } from '../../src/backends/memory/backend.js';
import { MemoryStore } from '../../src/backends/memory/store.js';
import { createRedisBackend } from '../../src/backends/redis/index.js';
import { createServerBackend } from '../../src/backends/server-client/index.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { FakeClock } from '../../src/testing/index.js';
import type { RedisProcess } from '../helpers/redis-server.js';
import { sleep } from '../helpers/wait.js';
import type { BackendEngineFactory } from './backend-support.js';

export const memoryEngine: BackendEngineFactory = async () => {
  const clock = new FakeClock();
  let store = new MemoryStore({ clock });
  return {
    label: 'memory',
    fakeTime: true,
    open: async (context) => new MemoryBackend(store, { ...context, prefix: 'holdfast:' }),
    advance: (ms) => clock.advance(ms),
    // A new store on the same clock: what a process restarted without persistence has. A
    // restart takes time, and fences are seeded from the wall clock only when it has moved on.
    loseData: async () => {
      store = new MemoryStore({ clock });
      await clock.advance(1);
    },
    close: async () => {},
  };
};

export function redisEngine(server: () => RedisProcess): BackendEngineFactory {
  return async () => {
    const { url } = server();
    const prefix = `conf-${randomBytes(6).toString('hex')}:`;
    return {
      label: 'redis',
      fakeTime: false,
      open: (context) => createRedisBackend({ url }, { ...context, prefix }),
      advance: sleep,
      // Every key of this engine goes, as in a crash of a Redis without persistence.
      loseData: async () => {
        const admin = new Redis(url);
        try {
          let cursor = '0';
          do {
            const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
            cursor = next;
            if (keys.length > 0) await admin.del(...keys);
          } while (cursor !== '0');
        } finally {
          await admin.quit();
        }
      },
      close: async () => {},
    };
  };
}

export const holdfastEngine: BackendEngineFactory = async () => {
  let server: RunningServer = await startServer({ port: 0 });
  const port = server.port;
  const url = `holdfast://127.0.0.1:${port}`;
  return {
    label: 'holdfast',
    fakeTime: false,
    open: (context) => createServerBackend(url, { ...context, prefix: 'holdfast:' }),
    advance: sleep,
    // A restarted server keeps nothing (its state is in memory).
    loseData: async () => {
      await server.close();
      server = await startServer({ port });
    },
    close: () => server.close(),
  };
};

/**
 * The engines the backend conformance suite runs on here, each opening backends through its
 * backend module's `open()`, as connect() does: memory (a fake clock), Redis (a spawned
 * redis-server, a key prefix per engine), Redis Cluster, etcd (a spawned cluster, a key prefix
 * per engine), holdfast:// (an in-process server per engine, state in memory, clients over TCP),
 * and a memory backend stripped to the required core (no rates, events, values or semaphores; no
 * wake-ups), so the suite's "not declared" side runs too.
 * A new backend's engine is written the same way.
 */
import { randomBytes } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import type { Backend } from '../../src/backend.js';
import { open as openEtcd } from '../../src/backends/etcd/index.js';
import { MemoryBackend, MemoryStore, open as openMemory } from '../../src/backends/memory/index.js';
import { open as openQuorum } from '../../src/backends/quorum/index.js';
import { open as openRedis } from '../../src/backends/redis/index.js';
import { open as openServer } from '../../src/backends/server-client/index.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { FakeClock } from '../../src/testing/index.js';
import type { EtcdCluster } from '../helpers/etcd-cluster.js';
import type { RedisCluster } from '../helpers/redis-cluster.js';
import type { RedisProcess } from '../helpers/redis-server.js';
import { sleep } from '../helpers/wait.js';
import type { BackendEngineFactory } from './backend-support.js';

const PREFIX = 'holdfast:';
/** Generous: a round trip that is merely slow on a loaded machine must not fail a test. */
const COMMAND_TIMEOUT = 10_000;

export const memoryEngine: BackendEngineFactory = async () => {
  const clock = new FakeClock();
  let store = new MemoryStore({ clock });
  return {
    label: 'memory',
    fakeTime: true,
    open: (context) => openMemory({ memory: store }, { ...context, prefix: PREFIX }, {}),
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
      open: (context) => openRedis(url, { ...context, prefix }, { commandTimeout: COMMAND_TIMEOUT }),
      advance: sleep,
      // Every key of this engine goes, as in a crash of a Redis without persistence.
      loseData: () => deleteUnder(url, prefix),
      close: async () => {},
    };
  };
}

/** Deletes every key under `prefix` on the Redis at `url`, as a crash without persistence would. */
async function deleteUnder(url: string, prefix: string): Promise<void> {
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
}

/**
 * A quorum of independent redis-servers (`{ redlock: urls }`), a key prefix per engine. Losing
 * data is every node's keys at once (the epoch under the prefix too): a whole set lost without a
 * restart, so no restart guard is involved and the fences must still rise.
 */
export function quorumEngine(nodes: () => readonly RedisProcess[]): BackendEngineFactory {
  return async () => {
    const urls = nodes().map((node) => node.url);
    const prefix = `conf-${randomBytes(6).toString('hex')}:`;
    return {
      label: 'redlock',
      fakeTime: false,
      open: (context) => openQuorum({ redlock: urls }, { ...context, prefix }, { commandTimeout: COMMAND_TIMEOUT }),
      advance: sleep,
      loseData: async () => {
        await Promise.all(urls.map((url) => deleteUnder(url, prefix)));
      },
      close: async () => {},
    };
  };
}

/** Redis Cluster: the same backend module, opened with `{ cluster: seeds }`, a prefix per engine. */
export function redisClusterEngine(cluster: () => RedisCluster): BackendEngineFactory {
  return async () => {
    const seeds = [...cluster().urls];
    const prefix = `conf-${randomBytes(6).toString('hex')}:`;
    return {
      label: 'redis',
      fakeTime: false,
      open: (context) => openRedis({ cluster: seeds }, { ...context, prefix }, { commandTimeout: COMMAND_TIMEOUT }),
      advance: sleep,
      // Every key of this engine, on every master.
      loseData: async () => {
        for (const master of await cluster().masters()) await deleteMatching(master.url, `${prefix}*`);
      },
      close: async () => {},
    };
  };
}

/**
 * Backends on one etcd cluster (a key prefix per engine). Losing data deletes every key of the
 * engine, as a cluster rebuilt from nothing would have none; the cluster's revision, and so the
 * fences, keep counting up (a new cluster would not: fences then rely on etcd's revision
 * counter, which the README says).
 */
export function etcdEngine(cluster: () => EtcdCluster): BackendEngineFactory {
  return async () => {
    const { url, members } = cluster();
    const prefix = `conf-${randomBytes(6).toString('hex')}:`;
    return {
      label: 'etcd',
      fakeTime: false,
      open: (context) => openEtcd(url, { ...context, prefix }, { commandTimeout: COMMAND_TIMEOUT }),
      advance: sleep,
      loseData: async () => {
        const admin = new Etcd3({ hosts: members.map((m) => m.endpoint) });
        try {
          await admin.delete().prefix(prefix);
        } finally {
          admin.close();
        }
      },
      close: async () => {},
    };
  };
}

async function deleteMatching(url: string, match: string): Promise<void> {
  const admin = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', match, 'COUNT', 500);
      cursor = next;
      // One DEL per key: on a cluster node, one DEL may not span slots.
      for (const key of keys) await admin.del(key);
    } while (cursor !== '0');
  } finally {
    await admin.quit();
  }
}

export const holdfastEngine: BackendEngineFactory = async () => {
  let server: RunningServer = await startServer({ port: 0 });
  const port = server.port;
  const url = `holdfast://127.0.0.1:${port}`;
  return {
    label: 'holdfast',
    fakeTime: false,
    open: (context) => openServer(url, { ...context, prefix: PREFIX }, { commandTimeout: COMMAND_TIMEOUT }),
    advance: sleep,
    // A restarted server keeps nothing (its state is in memory).
    loseData: async () => {
      await server.close();
      server = await startServer({ port });
    },
    close: () => server.close(),
  };
};

/** Only the required core of `backend`: what a minimal backend (a key-value store, say) offers. */
function coreOnly(backend: Backend): Backend {
  return {
    label: 'memory-core',
    clientId: backend.clientId,
    capabilities: {
      locks: ['mutex', 'rwlock', 'election'],
      wakeups: 'poll',
      rateAlgorithms: [],
      events: false,
      values: false,
    },
    acquire: (r) => backend.acquire(r),
    release: (name, token) => backend.release(name, token),
    extend: (r) => backend.extend(r),
    extendMany: (rs) => backend.extendMany(rs),
    inspect: (name) => backend.inspect(name),
    list: (pattern) => backend.list(pattern),
    forceRelease: (name) => backend.forceRelease(name),
    close: () => backend.close(),
  };
}

export const coreOnlyEngine: BackendEngineFactory = async () => {
  const clock = new FakeClock();
  const store = new MemoryStore({ clock });
  return {
    label: 'memory-core',
    fakeTime: true,
    open: async (context) => coreOnly(new MemoryBackend(store, { ...context, prefix: PREFIX }, { wakeups: 'poll' })),
    advance: (ms) => clock.advance(ms),
    close: async () => {},
  };
};

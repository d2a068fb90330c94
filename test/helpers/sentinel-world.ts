/**
 * The Sentinel deployment (test/helpers/redis-sentinel.ts) as the contract suites take it: a
 * World for the primitive contracts and an engine for the backend conformance suite, both
 * connecting through `{ sentinel }` exactly as an application does, each under a fresh prefix.
 */
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { open as openSentinel } from '../../src/backends/sentinel/index.js';
import { ClosedError, connect, type Holdfast } from '../../src/index.js';
import type { BackendEngineFactory } from '../contract/backend-support.js';
import { type SentinelSet, startSentinelSet } from './redis-sentinel.js';
import { sleep } from './wait.js';
import type { World, WorldFactory } from './world.js';

/** Generous: a round trip that is merely slow on a loaded machine must not fail a test. */
const COMMAND_TIMEOUT = 10_000;

/** Starts one Sentinel deployment for the calling test file (stopped in `after`). */
export function useSentinelSet(): () => SentinelSet {
  let set: SentinelSet | undefined;
  before(async () => {
    set = await startSentinelSet();
  });
  after(async () => {
    await set?.stop();
  });
  return () => {
    if (!set) throw new Error('the sentinel set has not started (use it inside tests, not at load time)');
    return set;
  };
}

export function sentinelWorld(set: () => SentinelSet): WorldFactory {
  return async (): Promise<World> => {
    const prefix = `test-${randomBytes(6).toString('hex')}:`;
    const clients: Holdfast[] = [];
    return {
      backend: 'redis',
      fake: false,
      async connect(options = {}) {
        const client = await connect({ sentinel: set().target }, { prefix, ...options });
        clients.push(client);
        return client;
      },
      advance: sleep,
      async close() {
        const results = await Promise.allSettled(clients.map((client) => client.close()));
        for (const result of results) {
          if (result.status === 'rejected' && !(result.reason instanceof ClosedError)) throw result.reason;
        }
      },
    };
  };
}

export function sentinelEngine(set: () => SentinelSet): BackendEngineFactory {
  return async () => {
    const prefix = `conf-${randomBytes(6).toString('hex')}:`;
    return {
      label: 'sentinel',
      fakeTime: false,
      open: (context) =>
        openSentinel({ sentinel: set().target }, { ...context, prefix }, { commandTimeout: COMMAND_TIMEOUT }),
      advance: sleep,
      // Every key of this engine goes (on the primary, and so on its replicas), as in a crash.
      loseData: async () => {
        const admin = new Redis((await set().primary()).url);
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

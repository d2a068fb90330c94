/**
 * The two engines the differential test compares, each as CLIENTS backends on one shared state
 * and a clock the test drives: memory on a FakeClock, Redis with the scripts' test clock
 * (RedisBackendOptions.testClock), both starting each sequence at the same wall µs, WALL_ORIGIN.
 * The time T of a sequence is whole ms since its start.
 */
import { Redis } from 'ioredis';
import type { Backend, BackendContext, HandoffGrant } from '../../src/backend.js';
import { MemoryBackend } from '../../src/backends/memory/backend.js';
import { MemoryStore } from '../../src/backends/memory/store.js';
import { createRedisBackend } from '../../src/backends/redis/index.js';
import { open as openServer } from '../../src/backends/server-client/index.js';
import { startServer } from '../../src/server/index.js';
import { FakeClock } from '../../src/testing/index.js';
import { CLIENTS } from './ops.js';

/**
 * A script call may take this long on a loaded machine before it counts as failed: a timeout
 * would show as a difference (BACKEND on one side only), not as what it is.
 */
const COMMAND_TIMEOUT = 30_000;

/** Wall-clock µs at T = 0 of every sequence (a whole ms, so ms times stay integers). */
export const WALL_ORIGIN = 1_700_000_000_000_000n;

/** A grant delivered by a wake-up, as the engine reported it. */
export interface Delivered {
  readonly token: string;
  readonly grant: HandoffGrant;
}

export interface Engine {
  readonly label: string;
  /** CLIENTS backends on one state. */
  readonly backends: readonly Backend[];
  /** Moves the clock forward to T = `t` ms (memory: its timers fire on the way). */
  setTime(t: number): Promise<void>;
  /** A backend `serverTime` (integer µs, any origin) as ms since the sequence's start. */
  sinceStart(serverTime: number): number;
  /** Hand-off grants delivered so far in this sequence, in arrival order. */
  readonly delivered: Delivered[];
  close(): Promise<void>;
}

function context(id: string, prefix: string, deliver: (wake: Delivered) => void): BackendContext {
  return {
    clientId: id,
    prefix,
    onWake: (token, grant) => {
      if (grant !== null) deliver({ token, grant });
    },
    onResync: () => {},
  };
}

/**
 * holdfast:// in front of a memory store on a fake clock: a fresh in-process server per
 * sequence (`startServer({ backend: { memory: store } })`) and CLIENTS holdfast:// backends
 * over TCP, so the server's transport (RESP, owners, µs, wake-up routing, event pushes) is
 * compared with the library it fronts.
 */
export async function holdfastEngine(): Promise<Engine> {
  const clock = new FakeClock({ wallMicros: Number(WALL_ORIGIN) });
  const store = new MemoryStore({ clock });
  const server = await startServer({ port: 0, backend: { memory: store } });
  const url = `holdfast://127.0.0.1:${server.port}`;
  const delivered: Delivered[] = [];
  const backends: Backend[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) {
      const ctx = context(`holdfast-${i}`, 'diff:', (wake) => delivered.push(wake));
      backends.push(await openServer(url, ctx, { commandTimeout: COMMAND_TIMEOUT }));
    }
  } catch (error) {
    await Promise.allSettled(backends.map((backend) => backend.close()));
    await server.close();
    throw error;
  }
  return {
    label: 'holdfast',
    backends,
    setTime: (t) => clock.advance(t - clock.now()),
    // The server passes the store's serverTime through: its clock in µs, starting at 0.
    sinceStart: (serverTime) => serverTime / 1000,
    delivered,
    close: async () => {
      await Promise.allSettled(backends.map((backend) => backend.close()));
      await server.close();
    },
  };
}

/** A fresh memory engine per sequence: a new store on a new fake clock. */
export function memoryEngine(): Engine {
  const clock = new FakeClock({ wallMicros: Number(WALL_ORIGIN) });
  const store = new MemoryStore({ clock });
  const delivered: Delivered[] = [];
  const backends = Array.from(
    { length: CLIENTS },
    (_, i) =>
      new MemoryBackend(
        store,
        context(`memory-${i}`, 'diff:', (wake) => delivered.push(wake)),
      ),
  );
  return {
    label: 'memory',
    backends,
    setTime: (t) => clock.advance(t - clock.now()),
    // The memory backend's serverTime is its store clock in µs, which starts at 0.
    sinceStart: (serverTime) => serverTime / 1000,
    delivered,
    close: async () => {
      for (const backend of backends) await backend.close();
    },
  };
}

/**
 * A Redis engine for many sequences: its backends stay connected (each sequence uses names and
 * tokens of its own, starting with its tag); `reset(tag)` empties the (test-owned) Redis, starts
 * a sequence at T = 0 and forgets the grants delivered before. A late wake-up of an earlier
 * sequence is not counted. Emptying keeps `list` (a SCAN) from slowing down run after run.
 */
export interface RedisEngine extends Engine {
  reset(tag: string): Promise<void>;
}

export async function redisEngine(url: string, prefix: string): Promise<RedisEngine> {
  let now = 0;
  let tag = '';
  const delivered: Delivered[] = [];
  const deliver = (wake: Delivered): void => {
    if (wake.token.startsWith(`${tag}:`)) delivered.push(wake);
  };
  const testClock = (): number => Number(WALL_ORIGIN) + now * 1000;
  const admin = new Redis(url);
  const backends: Backend[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    backends.push(
      await createRedisBackend({ url }, context(`redis-${i}`, prefix, deliver), {
        testClock,
        commandTimeout: COMMAND_TIMEOUT,
      }),
    );
  }
  return {
    label: 'redis',
    backends,
    setTime: async (t) => {
      now = t;
    },
    // The scripts' serverTime is µs since the epoch, on the test clock.
    sinceStart: (serverTime) => (serverTime - Number(WALL_ORIGIN)) / 1000,
    delivered,
    reset: async (next) => {
      await admin.flushdb();
      now = 0;
      tag = next;
      delivered.length = 0;
    },
    close: async () => {
      for (const backend of backends) await backend.close();
      await admin.quit();
    },
  };
}

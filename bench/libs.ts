/**
 * One small adapter per library, so every measure runs the same code against holdfast and the
 * peers. Each adapter owns its connections (one ioredis client, same ioredis version for all;
 * holdfast adds its one subscriber connection) and uses the library's documented defaults
 * unless a measure asks otherwise.
 */
import { readFileSync } from 'node:fs';
import { connect, type Holdfast, type Mutex } from 'holdfast';
import { Redis } from 'ioredis';
import { defaultTimeoutOptions, Mutex as RsMutex, Semaphore as RsSemaphore } from 'redis-semaphore';
import Redlock from 'redlock';

export const LIBS = ['holdfast', 'redlock', 'redis-semaphore'] as const;
export type LibName = (typeof LIBS)[number];

export const DEFAULT_TTL = 10_000;

export interface LockOptions {
  /** Lease length in ms (default 10 000, which is also both peers' default). */
  readonly ttl?: number;
  /**
   * Renewal while held: holdfast `autoExtend`, redis-semaphore `refreshInterval` (0 when false);
   * redlock's `acquire` never renews. Omitted: the library's default, which for holdfast and
   * redis-semaphore (a setInterval at 0.8 × lockTimeout) is to renew.
   */
  readonly renew?: boolean;
}

/** Frees what an acquire took. */
export type Release = () => Promise<void>;

export interface Locker {
  readonly lib: LibName;
  /**
   * A blocking mutex acquire with the library's default waiting: holdfast queues until granted,
   * redlock retries 10× every 200 ± 100 ms, redis-semaphore polls every 10 ms for up to 10 s.
   * Rejects when the library gives up.
   */
  acquire(key: string, options?: LockOptions): Promise<Release>;
  /** One permit of a `limit`-permit semaphore, or undefined when the library has none. */
  readonly acquirePermit: ((key: string, limit: number) => Promise<Release>) | undefined;
  close(): Promise<void>;
}

/** Key prefixes keep the libraries apart on the shared server. */
const PREFIX: Record<LibName, string> = {
  holdfast: 'bench:hf:',
  redlock: 'bench:rl:',
  'redis-semaphore': 'bench:rs:',
};

export async function openLocker(lib: LibName, url: string): Promise<Locker> {
  if (lib === 'holdfast') return openHoldfast(url);
  const client = new Redis(url);
  await client.ping();
  return lib === 'redlock' ? redlockLocker(client) : redisSemaphoreLocker(client);
}

async function openHoldfast(url: string): Promise<Locker> {
  const hf: Holdfast = await connect(url, { prefix: PREFIX.holdfast });
  // Primitives are meant to be created once and reused, as an application would.
  const mutexes = new Map<string, Mutex>();
  const mutex = (key: string, ttl: number, autoExtend: boolean | undefined): Mutex => {
    const id = `${key}|${ttl}|${autoExtend}`;
    let m = mutexes.get(id);
    if (m === undefined) {
      m = hf.mutex(key, autoExtend === undefined ? { ttl } : { ttl, autoExtend });
      mutexes.set(id, m);
    }
    return m;
  };
  return {
    lib: 'holdfast',
    async acquire(key, options = {}) {
      const lease = await mutex(key, options.ttl ?? DEFAULT_TTL, options.renew).acquire();
      return async () => {
        await lease.release();
      };
    },
    async acquirePermit(key, limit) {
      const lease = await hf.semaphore(key, { permits: limit, ttl: DEFAULT_TTL }).acquire();
      return async () => {
        await lease.release();
      };
    },
    close: () => hf.close(),
  };
}

function redlockLocker(client: Redis): Locker {
  const redlock = new Redlock([client]);
  return {
    lib: 'redlock',
    async acquire(key, options = {}) {
      const lock = await redlock.acquire([PREFIX.redlock + key], options.ttl ?? DEFAULT_TTL);
      return async () => {
        await lock.release();
      };
    },
    acquirePermit: undefined,
    close: () => redlock.quit(),
  };
}

function redisSemaphoreLocker(client: Redis): Locker {
  return {
    lib: 'redis-semaphore',
    async acquire(key, options = {}) {
      const lockTimeout = options.ttl ?? DEFAULT_TTL;
      const mutex = new RsMutex(
        client,
        PREFIX['redis-semaphore'] + key,
        options.renew === false ? { lockTimeout, refreshInterval: 0 } : { lockTimeout },
      );
      await mutex.acquire();
      return () => mutex.release();
    },
    async acquirePermit(key, limit) {
      const semaphore = new RsSemaphore(client, PREFIX['redis-semaphore'] + key, limit);
      await semaphore.acquire();
      return () => semaphore.release();
    },
    close: async () => {
      await client.quit();
    },
  };
}

/** "name version" of each compared package, read from its installed package.json. */
export function versions(): string[] {
  const read = (path: string): string => {
    const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { version?: string };
    return String(pkg.version ?? '?').replace(/^v/, '');
  };
  return [
    `holdfast ${read('../package.json')} (this working tree, built to dist/)`,
    `redlock ${read('../node_modules/redlock/package.json')}`,
    `redis-semaphore ${read('../node_modules/redis-semaphore/package.json')}`,
    `ioredis ${read('../node_modules/ioredis/package.json')} (shared by all three)`,
  ];
}

/** The peers' default settings, read from the libraries themselves (the bench uses these). */
export function peerDefaults(): string[] {
  const client = new Redis({ lazyConnect: true });
  const { retryCount, retryDelay, retryJitter } = new Redlock([client]).settings;
  client.disconnect();
  const { acquireTimeout, retryInterval, lockTimeout } = defaultTimeoutOptions;
  return [
    `redlock: retryCount ${retryCount}, retryDelay ${retryDelay} ms, retryJitter ±${retryJitter} ms; no renewal`,
    `redis-semaphore: acquireTimeout ${acquireTimeout} ms, retryInterval ${retryInterval} ms, ` +
      `lockTimeout ${lockTimeout} ms, renewal every 0.8 × lockTimeout`,
  ];
}

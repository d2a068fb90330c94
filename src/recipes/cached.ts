/**
 * Dog-pile prevention (seed 003): a cold cache key is computed once across every process,
 * the other callers queue on a lock and then read the value instead of computing it again.
 */
import type { Cluster, Redis } from 'ioredis';
import { valueKey } from '../backends/redis/keys.js';
import { requireCapability } from '../capabilities.js';
import { coreOf, type Holdfast } from '../client.js';
import { asBackendError, ValidationError } from '../errors.js';
import type { Mutex } from '../primitives/mutex.js';
import { type Clock, realClock, type Timer } from '../util/clock.js';
import { checkMs, checkName, checkOptions, optional } from '../util/validate.js';
import { checkClient, checkFunction } from './common.js';

/**
 * Where `cached` keeps its values: JSON strings under a key, each with a TTL. Implement it to
 * put the cache anywhere (Memcached, a database); `get` and `set` errors reach the caller.
 */
export interface CacheStore {
  /** The value stored under `key`, or undefined when there is none or it expired. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for `ttl` ms, replacing any value there. */
  set(key: string, value: string, ttl: number): Promise<void>;
}

export interface CachedOptions {
  /** How long a computed value stays cached, in ms. Required. */
  readonly ttl: number;
  /**
   * TTL of the lock held while computing, in ms (default 10 000). It is renewed while `compute`
   * runs, so it only matters when the computing process dies: the next waiter takes over then.
   */
  readonly lockTtl?: number;
  /** ms to wait for the lock before rejecting with `LockTimeoutError` (default: no limit). */
  readonly wait?: number;
  /** Where values live (default: the backend's own value store, see `cached`). */
  readonly store?: CacheStore;
}

/** The lock `cached(hf, key, …)` takes is named `CACHE_LOCK_PREFIX + key`. */
export const CACHE_LOCK_PREFIX = 'cache:';
export const DEFAULT_CACHE_PREFIX = 'holdfast:cache:';

const OPTION_KEYS = ['ttl', 'lockTtl', 'wait', 'store'] as const;
/** Values of `cached(hf, key, …)` live in the backend's value store under `CACHE_VALUE_PREFIX + key`. */
const CACHE_VALUE_PREFIX = 'cache:';

interface Plan {
  readonly mutex: Mutex;
  readonly store: CacheStore;
  readonly ttl: number;
  readonly wait: number | undefined;
}

/**
 * Returns the value cached under `key`, computing it with `compute` when absent — once across
 * every process that shares the store and the backend. Callers that miss at the same time queue
 * (FIFO, woken by hand-off, no polling) on the mutex `cache:<key>`; each reads the store again
 * once it holds the lock, so only the first computes and the rest read its value.
 *
 * - The value must survive `JSON.stringify`/`JSON.parse`: every caller, the computing one too,
 *   gets the parsed JSON (a `Date` comes back as a string). `undefined` or a function is refused
 *   with `ValidationError`.
 * - If `compute` throws, that caller alone rejects with its error, nothing is cached, and the
 *   next waiter computes. If the computing process dies, the next waiter gets the lock when
 *   `lockTtl` runs out and computes.
 * - A stored value that is not valid JSON counts as a miss and is overwritten.
 * - Bad input rejects with `ValidationError` before any I/O.
 *
 * By default values live in the backend itself, under the client's prefix (Redis: a key
 * `<prefix>value:cache:<key>`; holdfast://: the server's value store; memory://: the shared
 * MemoryStore), so every process on the same backend shares them. A backend without a value
 * store (see `hf.capabilities.values`) rejects with `UnsupportedError` unless `store` is given.
 */
export async function cached<T>(
  hf: Holdfast,
  key: string,
  compute: () => Promise<T> | T,
  options: CachedOptions,
): Promise<T> {
  const plan = parse(hf, key, compute, options);
  const hit = await read<T>(plan.store, key);
  if (hit !== undefined) return hit.value;
  const fill = async (): Promise<T> => {
    // Whoever held the lock before us has probably filled it.
    const again = await read<T>(plan.store, key);
    if (again !== undefined) return again.value;
    const json = serialise(await compute(), key);
    await plan.store.set(key, json, plan.ttl);
    return JSON.parse(json) as T;
  };
  return plan.mutex.withLock(fill, plan.wait === undefined ? {} : { wait: plan.wait });
}

function parse(hf: unknown, key: unknown, compute: unknown, options: unknown): Plan {
  const client = checkClient(hf);
  const name = checkName(key, 'key');
  checkFunction(compute, 'compute');
  if (options === undefined) throw new ValidationError('cached() needs options with a ttl');
  const raw = checkOptions<CachedOptions>(options, OPTION_KEYS, 'cached options');
  const ttl = checkMs(raw.ttl, 'ttl');
  const lockTtl = optional(raw.lockTtl, (v) => checkMs(v, 'lockTtl'));
  const wait = optional(raw.wait, (v) => checkMs(v, 'wait'));
  const store = optional(raw.store, checkStore) ?? backendStore(client, name);
  const mutex = client.mutex(CACHE_LOCK_PREFIX + name, lockTtl === undefined ? {} : { ttl: lockTtl });
  return { mutex, store, ttl, wait };
}

async function read<T>(store: CacheStore, key: string): Promise<{ value: T } | undefined> {
  const text = await store.get(key);
  if (text === undefined) return undefined;
  try {
    return { value: JSON.parse(text) as T };
  } catch {
    return undefined;
  }
}

function serialise(value: unknown, key: string): string {
  const json = JSON.stringify(value) as string | undefined;
  if (json === undefined) {
    throw new ValidationError(`compute for "${key}" returned ${typeof value}, which JSON cannot represent`);
  }
  return json;
}

function checkStore(value: unknown): CacheStore {
  const store = value as Partial<CacheStore> | null;
  if (typeof store?.get !== 'function' || typeof store.set !== 'function') {
    throw new ValidationError('store must be a CacheStore (an object with get and set methods)');
  }
  return value as CacheStore;
}

/** The backend's value store, with this recipe's keys in a namespace of their own. */
function backendStore(hf: Holdfast, key: string): CacheStore {
  const values = requireCapability(coreOf(hf).backend, 'values', `cached("${key}") without a store`);
  return {
    get: (k) => values.get(CACHE_VALUE_PREFIX + k),
    set: (k, value, ttl) => values.set(CACHE_VALUE_PREFIX + k, value, ttl),
  };
}

/**
 * A cache in this process's memory; each entry is dropped when its TTL runs out (on `clock`,
 * default the real one; pass a `FakeClock` in tests). Shares values only within the process.
 */
export function memoryCacheStore(options?: { readonly clock?: Clock }): CacheStore {
  const raw = checkOptions<{ clock: Clock }>(options, ['clock'], 'memoryCacheStore options');
  const clock = optional(raw.clock, checkClock) ?? realClock;
  const entries = new Map<string, { readonly value: string; readonly expiresAt: number; readonly timer: Timer }>();
  return {
    async get(key) {
      const entry = entries.get(key);
      return entry !== undefined && clock.now() < entry.expiresAt ? entry.value : undefined;
    },
    async set(key, value, ttl) {
      checkMs(ttl, 'ttl');
      entries.get(key)?.timer.cancel();
      const timer = clock.setTimer(() => entries.delete(key), ttl);
      entries.set(key, { value, expiresAt: clock.now() + ttl, timer });
    },
  };
}

function checkClock(value: unknown): Clock {
  const clock = value as Partial<Clock> | null;
  if (typeof clock?.now !== 'function' || typeof clock.setTimer !== 'function') {
    throw new ValidationError('clock must be a Clock (e.g. a FakeClock from holdfast/testing)');
  }
  return value as Clock;
}

export interface RedisCacheStoreOptions {
  /** The whole key prefix: a value lives under `prefix + key` (default `holdfast:cache:`). */
  readonly prefix?: string;
  /**
   * Keys under this client's `connect()` prefix instead: `<prefix>value:cache:<key>`, the keys
   * `cached()` uses without a store on `redis://`, so the two share values and two applications
   * with their own prefixes on one Redis never read each other's values.
   */
  readonly client?: Holdfast;
}

/**
 * A cache in Redis, shared by every process that uses that Redis: `SET key value PX ttl` under
 * `prefix + key` (default prefix `holdfast:cache:`), or under a client's prefix (`client`). The
 * application owns `redis` (an ioredis client, or a Cluster: each value is one key, so any slot
 * will do) and closes it. Failures reject with `BackendError`.
 */
export function redisCacheStore(redis: Redis | Cluster, options?: RedisCacheStoreOptions): CacheStore {
  if (typeof (redis as Partial<Redis> | null)?.set !== 'function') {
    throw new ValidationError('redis must be an ioredis client');
  }
  const raw = checkOptions<RedisCacheStoreOptions>(options, ['prefix', 'client'], 'redisCacheStore options');
  if (raw.prefix !== undefined && raw.client !== undefined) {
    throw new ValidationError('redisCacheStore takes a prefix or a client, not both');
  }
  const client = optional(raw.client, checkClient);
  const prefix =
    client === undefined
      ? (optional(raw.prefix, checkPrefix) ?? DEFAULT_CACHE_PREFIX)
      : valueKey(coreOf(client).prefix, CACHE_VALUE_PREFIX);
  return {
    async get(key) {
      try {
        return (await redis.get(prefix + key)) ?? undefined;
      } catch (error) {
        throw asBackendError(error, `cache read of "${key}"`);
      }
    },
    async set(key, value, ttl) {
      checkMs(ttl, 'ttl');
      try {
        await redis.set(prefix + key, value, 'PX', ttl);
      } catch (error) {
        throw asBackendError(error, `cache write of "${key}"`);
      }
    },
  };
}

function checkPrefix(value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError('prefix must be a string');
  return value;
}

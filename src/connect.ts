import type { Redis } from 'ioredis';
import type { Backend, BackendContext } from './backend.js';
import { MemoryBackend } from './backends/memory/backend.js';
import { MemoryStore } from './backends/memory/store.js';
import { createRedisBackend } from './backends/redis/index.js';
import { createServerBackend } from './backends/server-client/index.js';
import { Holdfast } from './client.js';
import { ClientCore, newClientId } from './engine/core.js';
import { ValidationError } from './errors.js';
import { type Clock, realClock } from './util/clock.js';
import { checkMs, checkName, checkOptions, optional } from './util/validate.js';

/** Where to connect: a URL, an in-process store, or an ioredis client the application owns. */
export type ConnectTarget = string | { readonly memory: MemoryStore } | { readonly redis: Redis };

export interface ConnectOptions {
  /** Prepended to every key and channel (default `holdfast:`). */
  readonly prefix?: string;
  /** The memory backend's time source, e.g. a `FakeClock` from `holdfast/testing`. */
  readonly clock?: Clock;
  /**
   * How long a waiter's queue entry lives unless refreshed, in ms (default 6000). A waiter that
   * dies leaves the queue after this; live waiters refresh it every third of it.
   */
  readonly waiterTtl?: number;
  /** Redis and holdfast:// only: how long one command may take before it fails, in ms (default 2000). */
  readonly commandTimeout?: number;
}

const OPTION_KEYS = ['prefix', 'clock', 'waiterTtl', 'commandTimeout'] as const;
const DEFAULT_WAITER_TTL = 6000;
/** Below this a waiter would refresh its entry so often that waiting is no longer cheap. */
const MIN_WAITER_TTL = 300;

/**
 * Connects to a backend: `memory://`, `holdfast://[token@]host[:port]` (the embedded server),
 * `redis://[user:pass@]host:port[/db]`, `rediss://…` (TLS),
 * `{ memory: store }` or `{ redis: ioredisClient }` (which holdfast will not close).
 */
export async function connect(target: ConnectTarget, options?: ConnectOptions): Promise<Holdfast> {
  const raw = checkOptions<ConnectOptions>(options, OPTION_KEYS, 'connect options');
  const prefix = optional(raw.prefix, (v) => checkName(v, 'prefix')) ?? 'holdfast:';
  const waiterTtl = optional(raw.waiterTtl, (v) => checkMs(v, 'waiterTtl')) ?? DEFAULT_WAITER_TTL;
  if (waiterTtl < MIN_WAITER_TTL) throw new ValidationError(`waiterTtl must be at least ${MIN_WAITER_TTL} ms`);
  const commandTimeout = optional(raw.commandTimeout, (v) => checkMs(v, 'commandTimeout'));
  const kind = targetKind(target);
  if (raw.clock !== undefined && kind !== 'memory') {
    throw new ValidationError('the clock option is for the memory backend only');
  }
  let core: ClientCore | undefined;
  const context: BackendContext = {
    clientId: newClientId(),
    prefix,
    onWake: (token, grant, retryAfter) => core?.wake(token, grant, retryAfter),
    onResync: () => core?.resync(),
  };
  let backend: Backend;
  let clock: Clock = realClock;
  if (kind === 'memory') {
    const store =
      typeof target === 'string' ? new MemoryStore(raw.clock ? { clock: raw.clock } : {}) : memoryOf(target);
    if (raw.clock !== undefined && raw.clock !== store.clock) {
      throw new ValidationError('a shared MemoryStore already has its clock; pass it to the store');
    }
    clock = store.clock;
    backend = new MemoryBackend(store, context);
  } else if (kind === 'server') {
    const timeout = commandTimeout === undefined ? {} : { commandTimeout };
    backend = await createServerBackend(target as string, context, timeout);
  } else {
    const redisTarget = typeof target === 'string' ? { url: target } : { client: redisOf(target) };
    backend = await createRedisBackend(redisTarget, context, commandTimeout === undefined ? {} : { commandTimeout });
  }
  core = new ClientCore(backend, clock, waiterTtl);
  return new Holdfast(core);
}

function targetKind(target: unknown): 'memory' | 'redis' | 'server' {
  if (typeof target === 'string') {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(target)?.[1]?.toLowerCase();
    if (scheme === 'memory') return 'memory';
    if (scheme === 'redis' || scheme === 'rediss') return 'redis';
    if (scheme === 'holdfast') return 'server';
    throw new ValidationError(
      `unsupported URL ${JSON.stringify(target.slice(0, 64))}: use memory://, holdfast://, redis:// or rediss://`,
    );
  }
  if (target !== null && typeof target === 'object') {
    if ('memory' in target) return 'memory';
    if ('redis' in target) return 'redis';
  }
  throw new ValidationError('connect() takes a URL, { memory: MemoryStore } or { redis: ioredisClient }');
}

function memoryOf(target: ConnectTarget): MemoryStore {
  const store = (target as { memory?: unknown }).memory;
  if (!(store instanceof MemoryStore)) throw new ValidationError('{ memory } must be a MemoryStore');
  return store;
}

function redisOf(target: ConnectTarget): Redis {
  const client = (target as { redis?: unknown }).redis;
  const looksLikeRedis =
    client !== null && typeof client === 'object' && typeof (client as { evalsha?: unknown }).evalsha === 'function';
  if (!looksLikeRedis) throw new ValidationError('{ redis } must be an ioredis client');
  return client as Redis;
}

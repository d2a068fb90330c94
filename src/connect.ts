import type { Backend, BackendContext } from './backend.js';
import { type ConnectTarget, type OpenOptions, resolveTarget } from './backends/registry.js';
import { requireCapability } from './capabilities.js';
import { Holdfast } from './client.js';
import { DEFAULT_PREFIX, DEFAULT_WAITER_TTL, MIN_WAITER_TTL } from './defaults.js';
import { ClientCore, newClientId } from './engine/core.js';
import { ValidationError } from './errors.js';
import { checkWaitReplicas } from './primitives/lease-options.js';
import { createTelemetry, parseTelemetry, type TelemetryOptions } from './telemetry/options.js';
import { type Clock, realClock } from './util/clock.js';
import { checkBoolean, checkMs, checkName, checkOptions, optional } from './util/validate.js';

export type { ConnectTarget } from './backends/registry.js';

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
  /** Networked backends only: how long one command may take before it fails, in ms (default 2000). */
  readonly commandTimeout?: number;
  /**
   * Redis only: connect even when its `maxmemory-policy` may evict keys with a TTL (`allkeys-*`,
   * `volatile-*`), which every lock key has: a held lock could vanish. Default false: `connect()`
   * rejects with a BackendError naming the policy. Other backends ignore it.
   */
  readonly allowEviction?: boolean;
  /**
   * OpenTelemetry metrics and spans (see the README's Metrics section). By default they go to
   * the global providers when the application registered any before connect(), else nowhere,
   * at no cost. `false` turns them off.
   */
  readonly telemetry?: TelemetryOptions | false;
  /**
   * Redis and Sentinel: hand every grant back only once this many replicas acknowledged it
   * (`WAIT`), so a failover to one of them keeps it; a primitive's own `waitReplicas` overrides
   * it. Default 0 (no waiting). connect() checks that the server counts acknowledgements at all
   * and rejects with a ReplicationError (reason 'refused') where it does not. See the README's
   * Sentinel section for what it does and does not guarantee.
   */
  readonly waitReplicas?: number;
}

const OPTION_KEYS = [
  'prefix',
  'clock',
  'waiterTtl',
  'commandTimeout',
  'allowEviction',
  'telemetry',
  'waitReplicas',
] as const;

/**
 * Connects to a backend: `memory://`, `holdfast://[token@]host[:port]` (the embedded server),
 * `redis://[user:pass@]host:port[/db]`, `rediss://…` (TLS), Redis Cluster as
 * `{ cluster: ['redis://host:port', …] }` or `redis-cluster://host:port,host:port`,
 * `{ memory: store }` or `{ redis: ioredisClient }` (a `Redis` or a `Cluster`, which holdfast
 * will not close).
 * Schemes resolve through src/backends/registry.ts, which loads a backend's module only when
 * it is used. Bad input rejects with ValidationError before any I/O.
 */
export async function connect(target: ConnectTarget, options?: ConnectOptions): Promise<Holdfast> {
  const raw = checkOptions<ConnectOptions>(options, OPTION_KEYS, 'connect options');
  const prefix = optional(raw.prefix, (v) => checkName(v, 'prefix')) ?? DEFAULT_PREFIX;
  const waiterTtl = optional(raw.waiterTtl, (v) => checkMs(v, 'waiterTtl')) ?? DEFAULT_WAITER_TTL;
  if (waiterTtl < MIN_WAITER_TTL) throw new ValidationError(`waiterTtl must be at least ${MIN_WAITER_TTL} ms`);
  const commandTimeout = optional(raw.commandTimeout, (v) => checkMs(v, 'commandTimeout'));
  const allowEviction = optional(raw.allowEviction, (v) => checkBoolean(v, 'allowEviction'));
  const telemetry = parseTelemetry(raw.telemetry);
  const waitReplicas = optional(raw.waitReplicas, checkWaitReplicas) ?? 0;
  const entry = resolveTarget(target);
  if (raw.clock !== undefined && !entry.keys.includes('memory')) {
    throw new ValidationError('the clock option is for the memory backend only');
  }
  const open: OpenOptions = {
    ...(raw.clock === undefined ? {} : { clock: raw.clock }),
    ...(commandTimeout === undefined ? {} : { commandTimeout }),
    ...(allowEviction === undefined ? {} : { allowEviction }),
  };
  let core: ClientCore | undefined;
  const context: BackendContext = {
    clientId: newClientId(),
    prefix,
    onWake: (token, grant, retryAfter) => core?.wake(token, grant, retryAfter),
    onResync: () => core?.resync(),
    onRecheck: (affected) => core?.recheck(affected),
  };
  const module = await entry.load();
  const clock = module.clock?.(target, open) ?? realClock;
  const backend = await module.open(target, context, open);
  if (waitReplicas > 0) await checkReplicas(backend);
  core = new ClientCore(backend, clock, waiterTtl, createTelemetry(telemetry, clock), prefix, waitReplicas);
  return new Holdfast(core);
}

/**
 * `waitReplicas` asked for at connect(): the backend must be able to count acknowledgements
 * (UnsupportedError otherwise), and the server must not refuse to (`WAIT 0` answers at once;
 * ReplicationError where WAIT is renamed or disabled, or the URL names a replica).
 */
async function checkReplicas(backend: Backend): Promise<void> {
  try {
    await requireCapability(backend, 'replicas', 'connect({ waitReplicas })').probe();
  } catch (error) {
    await backend.close().catch(() => {});
    throw error;
  }
}

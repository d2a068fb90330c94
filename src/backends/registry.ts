/**
 * Where `connect()` finds backends: each entry names the URL schemes and object-target keys it
 * serves and loads its module only when one of them is used, so a backend with an optional
 * dependency costs nothing to users who do not use it (`import('ioredis')` happens on the first
 * `redis://`). Adding a backend = one folder exporting `open` + one entry here.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Backend, BackendContext } from '../backend.js';
import { ValidationError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import type { MemoryStore } from './memory/store.js';
import type { RedlockTarget } from './quorum/target.js';
import type { SentinelTarget } from './sentinel/target.js';

/**
 * Where to connect: a URL, an in-process store, the seed nodes of a Redis Cluster, or an
 * ioredis client (`Redis` or `Cluster`) the application owns.
 */
export type ConnectTarget =
  | string
  | { readonly memory: MemoryStore }
  | { readonly redis: Redis | Cluster }
  | { readonly cluster: readonly string[] }
  | RedlockTarget
  | SentinelTarget;

/** What `connect()` hands a backend module besides the target and the context. */
export interface OpenOptions {
  /** The memory backend's time source; connect() refuses it for any other backend. */
  readonly clock?: Clock;
  /** Networked backends: how long one command may take before it fails, in ms. */
  readonly commandTimeout?: number;
  /** Redis-based backends: connect even under a maxmemory-policy that may evict lock keys. */
  readonly allowEviction?: boolean;
}

/** What a backend folder's index exports. */
export interface BackendModule {
  /** Checks `target` (ValidationError before any I/O), then connects. */
  open(target: ConnectTarget, context: BackendContext, options: OpenOptions): Promise<Backend>;
  /** The clock the client must count leases on, when it is not the real one (memory). */
  clock?(target: ConnectTarget, options: OpenOptions): Clock;
}

export interface RegistryEntry {
  /** URL schemes, lower case, without `://`. */
  readonly schemes: readonly string[];
  /** Keys of object targets, e.g. `{ redis: client }`. */
  readonly keys: readonly string[];
  /** Whether a URL of these schemes names a host (memory:// does not). */
  readonly needsHost: boolean;
  readonly load: () => Promise<BackendModule>;
}

export const REGISTRY: readonly RegistryEntry[] = [
  { schemes: ['memory'], keys: ['memory'], needsHost: false, load: () => import('./memory/index.js') },
  { schemes: ['redis', 'rediss'], keys: ['redis', 'cluster'], needsHost: true, load: () => import('./redis/index.js') },
  // Redis Cluster seeds as one URL, comma-separated hosts (checked by the module, before any I/O).
  { schemes: ['redis-cluster', 'rediss-cluster'], keys: [], needsHost: false, load: () => import('./redis/index.js') },
  { schemes: ['holdfast'], keys: [], needsHost: true, load: () => import('./server-client/index.js') },
  { schemes: [], keys: ['redlock'], needsHost: true, load: () => import('./quorum/index.js') },
  // Sentinels as one URL, comma-separated hosts and the primary's name as the path (checked by the module).
  { schemes: ['redis-sentinel'], keys: ['sentinel'], needsHost: false, load: () => import('./sentinel/index.js') },
  // Several hosts, comma-separated, which WHATWG URL cannot parse: the module checks the URL
  // itself, before it loads the etcd3 package or does any I/O.
  { schemes: ['etcd', 'etcds'], keys: [], needsHost: false, load: () => import('./etcd/index.js') },
];

/** Every URL scheme that connect() takes, for messages. */
export function registeredSchemes(): string[] {
  return REGISTRY.flatMap((entry) => entry.schemes.map((scheme) => `${scheme}://`));
}

/**
 * The entry for `target`, its URL checked for shape (scheme, host, port) before any module is
 * loaded or any I/O happens. Throws ValidationError.
 */
export function resolveTarget(target: unknown): RegistryEntry {
  if (typeof target === 'string') return entryForUrl(target);
  if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
    const entry = REGISTRY.find((e) => e.keys.some((key) => key in target));
    if (entry) return entry;
  }
  const objects = REGISTRY.flatMap((e) => e.keys.map((key) => `{ ${key}: … }`));
  throw new ValidationError(`connect() takes a URL (${registeredSchemes().join(', ')}) or ${objects.join(', ')}`);
}

function entryForUrl(url: string): RegistryEntry {
  const shown = JSON.stringify(url.slice(0, 64));
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  const entry = scheme === undefined ? undefined : REGISTRY.find((e) => e.schemes.includes(scheme));
  if (!entry) throw new ValidationError(`unsupported URL ${shown}: use ${registeredSchemes().join(', ')}`);
  if (!entry.needsHost) return entry;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(`invalid URL ${shown}: expected ${scheme}://[user:password@]host[:port]`);
  }
  if (parsed.hostname === '') throw new ValidationError(`invalid URL ${shown}: it names no host`);
  // WHATWG URL accepts any port of a non-special scheme's syntax; refuse 0 and the like here.
  if (parsed.port !== '' && (Number(parsed.port) < 1 || Number(parsed.port) > 65_535)) {
    throw new ValidationError(`invalid URL ${shown}: port ${parsed.port} is not in 1-65535`);
  }
  return entry;
}

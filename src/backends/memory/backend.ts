import {
  type AcquireRequest,
  type AcquireResult,
  type Backend,
  type BackendContext,
  type BackendEvent,
  type Capabilities,
  EVERY_CAPABILITY,
  type EventCapability,
  type ExtendRequest,
  type LockState,
  type RateCapability,
  type ValueCapability,
} from '../../backend.js';
import { internalsOf, type StoreInternals } from './internals.js';
import type { MemoryStore } from './store.js';

export interface MemoryBackendOptions {
  /**
   * 'grant' (default): hand-offs wake the waiter with its grant, as on Redis. 'poll': no
   * wake-ups at all, so this backend exercises the engine's path for backends without pushes
   * (waiters ask at retryAfter and on a short timer). For tests.
   */
  readonly wakeups?: 'grant' | 'poll';
}

/**
 * The lock calls of a backend that answers within the call (the memory backend): the embedded
 * server answers its clients' acquires and releases with them, without a promise per request.
 * Each is the same operation as its async counterpart.
 */
export interface SyncLocks {
  acquireNow(request: AcquireRequest): AcquireResult;
  releaseNow(name: string, token: string): boolean;
}

/** The backend's SyncLocks, when it has them. */
export function syncLocksOf(backend: Backend): SyncLocks | null {
  return backend instanceof MemoryBackend ? backend : null;
}

/**
 * One client's view of a `MemoryStore`. Every call runs synchronously inside the store, so it
 * is atomic; the promise only gives it the same shape as a networked backend. It has every
 * capability: all lock kinds, grants with wake-ups, every rate algorithm, events and values.
 */
export class MemoryBackend implements Backend, SyncLocks {
  readonly label = 'memory';
  readonly clientId: string;
  readonly capabilities: Capabilities;
  readonly rates: RateCapability;
  readonly events: EventCapability;
  readonly values: ValueCapability;
  readonly #store: StoreInternals;
  readonly #unwatch = new Set<() => void>();

  constructor(store: MemoryStore, context: BackendContext, options: MemoryBackendOptions = {}) {
    const wakeups = options.wakeups ?? 'grant';
    const tables = internalsOf(store);
    this.#store = tables;
    this.clientId = context.clientId;
    this.capabilities = wakeups === 'grant' ? EVERY_CAPABILITY : { ...EVERY_CAPABILITY, wakeups };
    // Without wake-ups the store has nobody to wake for this client: its hand-offs still grant.
    if (wakeups === 'grant') tables.attach(context.clientId, context.onWake, context.wakesInline === true);
    const clientId = context.clientId;
    this.rates = {
      take: async (request) => tables.rates.take(clientId, request),
      leave: async (name, token) => tables.rates.leave(name, token),
    };
    this.events = {
      watch: async (pattern, listener) => this.#watch(pattern, listener),
      sweep: async (name) => tables.locks.sweep(name),
    };
    // Values live under the client's prefix, as on Redis and the server.
    const prefix = context.prefix;
    this.values = {
      get: async (key) => tables.values.get(prefix + key),
      set: async (key, value, ttl) => tables.values.set(prefix + key, value, ttl),
    };
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.#store.locks.acquire(this.clientId, request);
  }

  async release(name: string, token: string): Promise<boolean> {
    return this.#store.locks.release(name, token);
  }

  /** acquire, answered in this call (see SyncLocks). */
  acquireNow(request: AcquireRequest): AcquireResult {
    return this.#store.locks.acquire(this.clientId, request);
  }

  /** release, answered in this call (see SyncLocks). */
  releaseNow(name: string, token: string): boolean {
    return this.#store.locks.release(name, token);
  }

  async extend(request: ExtendRequest): Promise<boolean> {
    return this.#store.locks.extend(request.name, request.token, request.ttl);
  }

  async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
    return requests.map((r) => this.#store.locks.extend(r.name, r.token, r.ttl));
  }

  async inspect(name: string): Promise<LockState | null> {
    return this.#store.locks.inspect(name);
  }

  async list(pattern: string): Promise<string[]> {
    return this.#store.locks.list(pattern);
  }

  async forceRelease(name: string): Promise<number> {
    return this.#store.locks.forceRelease(name);
  }

  async close(): Promise<void> {
    for (const unsubscribe of this.#unwatch) unsubscribe();
    this.#unwatch.clear();
    if (this.capabilities.wakeups === 'grant') this.#store.detach(this.clientId);
  }

  #watch(pattern: string, listener: (event: BackendEvent) => void): () => Promise<void> {
    const unsubscribe = this.#store.events.subscribe(pattern, listener);
    this.#unwatch.add(unsubscribe);
    return async () => {
      unsubscribe();
      this.#unwatch.delete(unsubscribe);
    };
  }
}

import type {
  AcquireRequest,
  AcquireResult,
  Backend,
  BackendContext,
  BackendEvent,
  ExtendRequest,
  LockState,
  RateRequest,
  RateResult,
} from '../../backend.js';
import type { MemoryStore } from './store.js';

/**
 * One client's view of a `MemoryStore`. Every call runs synchronously inside the store, so it
 * is atomic; the promise only gives it the same shape as a networked backend.
 */
export class MemoryBackend implements Backend {
  readonly clientId: string;
  readonly #store: MemoryStore;
  readonly #unwatch = new Set<() => void>();

  constructor(store: MemoryStore, context: BackendContext) {
    this.clientId = context.clientId;
    this.#store = store;
    store.attach(context.clientId, context.onWake);
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.#store.locks.acquire(this.clientId, request);
  }

  async release(name: string, token: string): Promise<boolean> {
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

  async sweep(name: string): Promise<number | null> {
    return this.#store.locks.sweep(name);
  }

  async rateTake(request: RateRequest): Promise<RateResult> {
    return this.#store.rates.take(this.clientId, request);
  }

  async rateLeave(name: string, token: string): Promise<void> {
    this.#store.rates.leave(name, token);
  }

  async watch(pattern: string, listener: (event: BackendEvent) => void): Promise<() => Promise<void>> {
    const unsubscribe = this.#store.events.subscribe(pattern, listener);
    this.#unwatch.add(unsubscribe);
    return async () => {
      unsubscribe();
      this.#unwatch.delete(unsubscribe);
    };
  }

  async close(): Promise<void> {
    for (const unsubscribe of this.#unwatch) unsubscribe();
    this.#unwatch.clear();
    this.#store.detach(this.clientId);
  }
}

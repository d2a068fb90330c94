import type {
  AcquireRequest,
  AcquireResult,
  Backend,
  BackendContext,
  ExtendRequest,
  LockState,
} from '../../backend.js';
import type { MemoryStore } from './store.js';

/**
 * One client's view of a `MemoryStore`. Every call runs synchronously inside the store, so it
 * is atomic; the promise only gives it the same shape as a networked backend.
 */
export class MemoryBackend implements Backend {
  readonly clientId: string;
  readonly #store: MemoryStore;

  constructor(store: MemoryStore, context: BackendContext) {
    this.clientId = context.clientId;
    this.#store = store;
    store.attach(context.clientId, context.onWake);
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.#store.acquire(this.clientId, request);
  }

  async release(name: string, token: string): Promise<boolean> {
    return this.#store.release(name, token);
  }

  async extend(request: ExtendRequest): Promise<boolean> {
    return this.#store.extend(request.name, request.token, request.ttl);
  }

  async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
    return requests.map((r) => this.#store.extend(r.name, r.token, r.ttl));
  }

  async inspect(name: string): Promise<LockState | null> {
    return this.#store.inspect(name);
  }

  async list(pattern: string): Promise<string[]> {
    return this.#store.list(pattern);
  }

  async forceRelease(name: string): Promise<number> {
    return this.#store.forceRelease(name);
  }

  async close(): Promise<void> {
    this.#store.detach(this.clientId);
  }
}

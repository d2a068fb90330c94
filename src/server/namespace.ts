/**
 * A namespace is one `connect()` prefix, served through one backend of the library. The server
 * is a client of that backend like any other: its own waits (HOLDFAST.LOCK / TAKE with WAIT,
 * HTTP long-polls) run in the library's waiting loop on the namespace's `core`; what remote
 * clients queue themselves (HOLDFAST.ACQUIRE / RATETAKE with a token) is forwarded, so their
 * wake-ups are routed back to the connection that holds their client id.
 */
import type { Backend, BackendContext, HandoffGrant } from '../backend.js';
import { type SyncLocks, syncLocksOf } from '../backends/memory/backend.js';
import { DEFAULT_WAITER_TTL } from '../defaults.js';
import { ClientCore, newClientId } from '../engine/core.js';
import { realClock } from '../util/clock.js';
import type { ClientRegistry } from './registry.js';
import type { BackendSource } from './source.js';

/** The queue-entry TTL of the server's own waits: the library's default waiterTtl. */
export const SERVER_WAITER_TTL = DEFAULT_WAITER_TTL;

interface Forward {
  readonly clientId: string;
  /** Server monotonic ms after which the entry is surely gone (its waiterTtl passed unrefreshed). */
  readonly until: number;
}

export class Namespace {
  readonly prefix: string;
  readonly backend: Backend;
  /** The backend's lock calls that answer within the call (the memory backend's), or null. */
  readonly syncLocks: SyncLocks | null;
  /** The server's own client on this namespace: blocking commands wait in line through it. */
  readonly core: ClientCore;
  /** Connections (and the HTTP API) using this namespace now. */
  users = 0;
  readonly #registry: ClientRegistry;
  /** Tokens queued on behalf of a remote client: their wake-ups go to that client. */
  readonly #forwarded = new Map<string, Forward>();
  #pruneAt = 1024;

  private constructor(prefix: string, backend: Backend, registry: ClientRegistry) {
    this.prefix = prefix;
    this.backend = backend;
    this.syncLocks = syncLocksOf(backend);
    this.core = new ClientCore(backend, realClock, SERVER_WAITER_TTL);
    this.#registry = registry;
  }

  static async open(source: BackendSource, prefix: string, registry: ClientRegistry): Promise<Namespace> {
    let namespace: Namespace | undefined;
    const context: BackendContext = {
      clientId: newClientId(),
      prefix,
      onWake(token, grant, retryAfter) {
        if (namespace) namespace.#wake(token, grant, retryAfter);
      },
      // #wake pushes a remote waiter's wake-up to its connection at once and defers the server's
      // own waiters', which would call back into the backend.
      wakesInline: true,
      onResync() {
        if (namespace) namespace.#resync();
      },
    };
    namespace = new Namespace(prefix, await source.open(prefix, context), registry);
    return namespace;
  }

  /** `token` waits for `clientId` (a remote client) until `ttl` ms from now unless asked again. */
  forward(token: string, clientId: string, ttl: number): void {
    const now = realClock.now();
    this.#forwarded.set(token, { clientId, until: now + ttl });
    if (this.#forwarded.size < this.#pruneAt) return;
    for (const [known, entry] of this.#forwarded) if (entry.until <= now) this.#forwarded.delete(known);
    this.#pruneAt = Math.max(1024, 2 * this.#forwarded.size);
  }

  /** `token` no longer waits (granted, released, left). */
  unforward(token: string): void {
    this.#forwarded.delete(token);
  }

  /** Ends the server's waits here and closes the backend. */
  close(): Promise<void> {
    this.#forwarded.clear();
    return this.core.close();
  }

  #wake(token: string, grant: HandoffGrant | null, retryAfter?: number): void {
    const forward = this.#forwarded.get(token);
    if (forward === undefined) {
      // Possibly called from inside a backend operation (wakesInline): a waiter of this server's
      // own asks again at once, which must wait until that operation is done.
      queueMicrotask(() => this.core.wake(token, grant, retryAfter));
      return;
    }
    if (grant !== null) this.#forwarded.delete(token);
    this.#registry.deliver(forward.clientId, token, grant);
  }

  /** Wake-ups may have been lost: the server's waiters ask again, and remote ones are told to. */
  #resync(): void {
    this.core.resync();
    for (const [token, { clientId }] of this.#forwarded) this.#registry.deliver(clientId, token, null);
  }
}

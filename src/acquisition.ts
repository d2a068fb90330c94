import type { AcquireRequest, LockKind } from './backend.js';
import type { Timer } from './clock.js';
import { type ClientCore, newToken, type PendingWaiter } from './core.js';
import { asBackendError, LockTimeoutError } from './errors.js';
import { Lease } from './lease.js';

/** Everything a primitive decides about one acquisition. */
export interface AcquireSpec {
  readonly name: string;
  readonly kind: LockKind;
  readonly permits: number;
  readonly limit: number;
  readonly ttl: number;
  readonly autoExtend: boolean;
  readonly owner: string;
}

export interface WaitOptions {
  /** ms to wait; undefined waits until granted or aborted. */
  readonly wait?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

function request(core: ClientCore, spec: AcquireSpec, token: string, enqueue: boolean): AcquireRequest {
  return {
    name: spec.name,
    kind: spec.kind,
    token,
    permits: spec.permits,
    limit: spec.limit,
    ttl: spec.ttl,
    enqueue,
    waiterTtl: core.waiterTtl,
    owner: spec.owner,
  };
}

function grant(core: ClientCore, spec: AcquireSpec, token: string, fence: bigint, requestedAt: number): Lease {
  const lease = new Lease(core, { ...spec, token, fence, requestedAt });
  core.track(lease);
  return lease;
}

/** One round trip: a lease, or null when others hold it (or others are queued first). */
export async function tryAcquire(core: ClientCore, spec: AcquireSpec): Promise<Lease | null> {
  core.assertOpen();
  const token = newToken();
  const requestedAt = core.clock.now();
  try {
    const result = await core.backend.acquire(request(core, spec, token, false));
    return result.granted ? grant(core, spec, token, result.fence, requestedAt) : null;
  } catch (error) {
    // The reply may be lost while the grant happened: free the token so no phantom holds.
    core.backend.release(spec.name, token).catch(() => {});
    throw asBackendError(error, `acquire of "${spec.name}"`);
  }
}

/** Joins the FIFO queue and resolves when granted (by hand-off, expiry or a free slot). */
export function acquire(core: ClientCore, spec: AcquireSpec, options: WaitOptions): Promise<Lease> {
  core.assertOpen();
  options.signal?.throwIfAborted();
  return new Waiter(core, spec, options).promise;
}

/**
 * A blocking acquire. It is woken by hand-off notifications, retries exactly when the current
 * holder's TTL runs out (when it heads the queue), and otherwise only refreshes its queue entry
 * on a slow safety timer that also covers lost notifications. Never polls.
 */
class Waiter implements PendingWaiter {
  readonly promise: Promise<Lease>;
  readonly #core: ClientCore;
  readonly #spec: AcquireSpec;
  readonly #signal: AbortSignal | undefined;
  readonly #token = newToken();
  #resolve!: (lease: Lease) => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  #inFlight = false;
  #again = false;
  #timeout: Timer | null = null;
  #retry: Timer | null = null;

  constructor(core: ClientCore, spec: AcquireSpec, options: WaitOptions) {
    this.#core = core;
    this.#spec = spec;
    this.#signal = options.signal;
    this.promise = new Promise<Lease>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    core.addWaiter(this.#token, this);
    const wait = options.wait;
    if (wait !== undefined) {
      this.#timeout = core.clock.setTimer(() => void this.abandon(new LockTimeoutError(spec.name, wait)), wait);
    }
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#attempt();
  }

  wake(): void {
    this.#attempt();
  }

  abandon(error: unknown): Promise<void> {
    if (this.#settled) return Promise.resolve();
    this.#finish();
    this.#reject(error);
    // Leaves the queue, or frees a grant that raced with the timeout. Sent after any attempt in
    // flight on the same connection, so it also covers a grant whose reply has not arrived.
    return this.#core.backend.release(this.#spec.name, this.#token).then(
      () => {},
      () => {},
    );
  }

  readonly #onAbort = (): void => {
    void this.abandon(this.#signal?.reason);
  };

  #attempt(): void {
    if (this.#settled) return;
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    this.#inFlight = true;
    const requestedAt = this.#core.clock.now();
    this.#core.backend.acquire(request(this.#core, this.#spec, this.#token, true)).then(
      (result) => {
        this.#inFlight = false;
        if (this.#settled) return;
        if (result.granted) {
          this.#finish();
          this.#resolve(grant(this.#core, this.#spec, this.#token, result.fence, requestedAt));
          return;
        }
        this.#scheduleRetry(result.retryAfter);
        if (this.#again) {
          this.#again = false;
          this.#attempt();
        }
      },
      (error: unknown) => {
        this.#inFlight = false;
        void this.abandon(asBackendError(error, `acquire of "${this.#spec.name}"`));
      },
    );
  }

  /** Retry when the head's blocker expires; else refresh the queue entry well before its TTL. */
  #scheduleRetry(retryAfter: number | null): void {
    this.#retry?.cancel();
    const safety = this.#core.waiterTtl / 3;
    const delay = retryAfter === null ? safety : Math.min(safety, Math.max(0, retryAfter) + 1);
    this.#retry = this.#core.clock.setTimer(() => this.#attempt(), delay);
  }

  #finish(): void {
    this.#settled = true;
    this.#core.removeWaiter(this.#token);
    this.#timeout?.cancel();
    this.#retry?.cancel();
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}

/**
 * The server waiting on a caller's behalf (HOLDFAST.LOCK / TAKE with WAIT, the HTTP long-poll):
 * the library's own waiting loop (src/engine/waiter.ts) on the namespace's client, asking
 * through the caller's limits. A wake-up makes it ask again, which arms the lease's full TTL:
 * the caller renews it itself from then on, so a hand-off's short claim window is not enough.
 */
import type { AcquireRequest, LockKind, RateRequest, RateResult } from '../backend.js';
import { claimTtl } from '../defaults.js';
import { rateRetry } from '../engine/rate-retry.js';
import { waitInLine } from '../engine/waiter.js';
import { LockTimeoutError, RateLimitTimeoutError } from '../errors.js';
import type { Caller } from './caller.js';

export interface LockSpec {
  readonly name: string;
  readonly kind: LockKind;
  readonly permits: number;
  readonly limit: number;
  readonly ttl: number;
  /** JSON text or ''. */
  readonly owner: string;
  /** ms to wait in line; 0 tries once and never queues. */
  readonly wait: number;
}

export interface Grant {
  readonly token: string;
  readonly fence: bigint;
}

/** The lock, or null when it was not granted within `wait`. Rejects with `signal.reason` when the caller goes. */
export async function lockFor(caller: Caller, spec: LockSpec, signal: AbortSignal): Promise<Grant | null> {
  const { core } = caller.namespace;
  const request = (token: string, enqueue: boolean): AcquireRequest => {
    const { name, kind, permits, limit, ttl, owner } = spec;
    const { waiterTtl } = core;
    return { name, kind, token, permits, limit, ttl, enqueue, waiterTtl, claimTtl: claimTtl(ttl, waiterTtl), owner };
  };
  let grant: Grant | null;
  if (spec.wait === 0) {
    const token = core.newToken();
    const result = await caller.backend.acquire(request(token, false), false);
    grant = result.granted ? { token, fence: result.fence } : null;
  } else {
    grant = await untilTimeout(
      waitInLine<Grant>(
        core,
        {
          name: spec.name,
          async ask(token) {
            const result = await caller.backend.acquire(request(token, true), false);
            return result.granted ? { done: { token, fence: result.fence } } : { retryAfter: result.retryAfter };
          },
          leave: (token) => caller.backend.release(spec.name, token),
          timeout: (wait) => new LockTimeoutError(spec.name, wait),
        },
        { wait: spec.wait, signal },
      ),
    );
  }
  if (grant !== null && signal.aborted) {
    // Granted as the caller went: nobody is left to release it.
    await caller.backend.release(spec.name, grant.token).catch(() => false);
    throw signal.reason;
  }
  return grant;
}

/**
 * One rate decision, or with `wait` a turn in the limiter's FIFO queue: the admission, or the
 * last refusal once `wait` ran out (null if no answer came at all).
 */
export async function takeFor(
  caller: Caller,
  request: (token: string | null) => RateRequest,
  wait: number,
  signal: AbortSignal,
): Promise<RateResult | null> {
  const first = request(null); // checks the request before anything is queued
  if (wait === 0) return caller.backend.rateTake(first, false);
  let last = null as RateResult | null;
  const admitted = await untilTimeout(
    waitInLine<RateResult>(
      caller.namespace.core,
      {
        name: first.name,
        async ask(token) {
          last = await caller.backend.rateTake(request(token), false);
          return last.allowed ? { done: last } : rateRetry(last);
        },
        leave: (token) => caller.backend.rateLeave(first.name, token),
        timeout: (waited) => new RateLimitTimeoutError(first.name, waited),
      },
      { wait, signal },
    ),
  );
  return admitted ?? last;
}

/** The result, or null when the wait ran out. */
async function untilTimeout<T>(waiting: Promise<T>): Promise<T | null> {
  try {
    return await waiting;
  } catch (error) {
    if (error instanceof LockTimeoutError) return null;
    throw error;
  }
}

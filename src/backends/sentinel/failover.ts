/**
 * A failover is an expected event under Sentinel, not an outage: for a few seconds (the
 * sentinels' `down-after-milliseconds` plus an election) no primary answers. On plain Redis a
 * waiter whose turn fails with the server unreachable rejects with a BackendError at once; here
 * it keeps its place instead and asks again shortly (its wait and signal still apply), for up to
 * FAILOVER_PATIENCE_MS of failures in a row. When it gets through it re-joins the queue on the
 * new primary (same token, so a grant made before the failover and replicated is recognised).
 * Everything else passes through unchanged: a try, a release or a renewal that cannot reach the
 * primary fails as on plain Redis (a lease then ends at its local deadline, reason 'deadline').
 */
import type {
  AcquireRequest,
  AcquireResult,
  Backend,
  Capabilities,
  EventCapability,
  ExtendRequest,
  LockState,
  RateCapability,
  ReplicaCapability,
  ValueCapability,
} from '../../backend.js';
import { BackendError } from '../../errors.js';

/** How long a waiter rides out failures in a row before it gets the BackendError. */
export const FAILOVER_PATIENCE_MS = 60_000;
/** How soon a waiter that could not get through asks again. */
const RETRY_MS = 250;

/** What the connection layer says while no primary answers (ioredis's and the server's words). */
const UNREACHABLE =
  /unreachable|timed out|Connection is closed|max retries|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|READONLY|LOADING|MASTERDOWN|All sentinels are unreachable/i;

/** Whether `error` says the primary could not be reached, as opposed to refusing the request. */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof BackendError)) return false;
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (UNREACHABLE.test(e.message)) return true;
  }
  return false;
}

export class FailoverTolerantBackend implements Backend {
  readonly label = 'sentinel';
  readonly clientId: string;
  readonly capabilities: Capabilities;
  readonly rates?: RateCapability;
  readonly events?: EventCapability;
  readonly values?: ValueCapability;
  readonly replicas?: ReplicaCapability;
  readonly #inner: Backend;
  /** Date.now() of the first of the failures in a row, or null while requests get through. */
  #failingSince: number | null = null;

  constructor(inner: Backend) {
    this.#inner = inner;
    this.clientId = inner.clientId;
    this.capabilities = inner.capabilities;
    if (inner.rates) this.rates = inner.rates;
    if (inner.events) this.events = inner.events;
    if (inner.values) this.values = inner.values;
    if (inner.replicas) this.replicas = inner.replicas;
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    try {
      const result = await this.#inner.acquire(request);
      this.#failingSince = null;
      return result;
    } catch (error) {
      if (!request.enqueue || !isUnreachable(error)) throw error;
      const now = Date.now();
      this.#failingSince ??= now;
      if (now - this.#failingSince > FAILOVER_PATIENCE_MS) throw error;
      // Not granted; where we stand in line is unknown until the primary answers again.
      return { granted: false, position: 0, retryAfter: RETRY_MS, serverTime: null };
    }
  }

  release(name: string, token: string): Promise<boolean> {
    return this.#inner.release(name, token);
  }

  extend(request: ExtendRequest): Promise<boolean> {
    return this.#inner.extend(request);
  }

  extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
    return this.#inner.extendMany(requests);
  }

  inspect(name: string): Promise<LockState | null> {
    return this.#inner.inspect(name);
  }

  list(pattern: string): Promise<string[]> {
    return this.#inner.list(pattern);
  }

  forceRelease(name: string): Promise<number> {
    return this.#inner.forceRelease(name);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

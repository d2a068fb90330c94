/**
 * Every error holdfast throws or rejects with extends `HoldfastError` and carries a stable
 * `code`; match on `code` (or `instanceof`), never on the message.
 */
export type HoldfastErrorCode =
  | 'VALIDATION'
  | 'LOCK_TIMEOUT'
  | 'LEASE_LOST'
  | 'BACKEND'
  | 'CLOSED'
  | 'QUORUM'
  | 'UNSUPPORTED'
  | 'REPLICATION';

export class HoldfastError extends Error {
  readonly code: HoldfastErrorCode;

  constructor(code: HoldfastErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad input, refused before any I/O. Nothing was sent and nothing changed. */
export class ValidationError extends HoldfastError {
  constructor(message: string) {
    super('VALIDATION', message);
  }
}

/** `acquire({ wait })` ran out of time; the request has left the queue. */
export class LockTimeoutError extends HoldfastError {
  readonly waited: number;

  constructor(name: string, waited: number) {
    super('LOCK_TIMEOUT', `could not acquire "${name}" within ${waited} ms`);
    this.waited = waited;
  }
}

/** `rateLimiter.take({ wait })` found no slot in time; it has left the queue. */
export class RateLimitTimeoutError extends LockTimeoutError {
  constructor(name: string, waited: number) {
    super(name, waited);
    this.message = `no slot on rate limiter "${name}" within ${waited} ms`;
  }
}

/**
 * Why a lease was lost: 'refused' – the backend said it no longer holds it (expired,
 * force-released, or gone with a primary that failed over before replicating it); 'deadline' –
 * no renewal was confirmed before the local deadline (an outage, a stalled process); 'ended' –
 * it had been released or detached here.
 */
export type LeaseLossReason = 'refused' | 'deadline' | 'ended';

/** The lease is gone: expired, taken by force, or its renewal could not be confirmed in time. */
export class LeaseLostError extends HoldfastError {
  readonly reason: LeaseLossReason;

  constructor(name: string, why: string, options?: { cause?: unknown; reason?: LeaseLossReason }) {
    super('LEASE_LOST', `lease on "${name}" lost: ${why}`, options);
    this.reason = options?.reason ?? 'refused';
  }
}

/** The backend failed or could not be reached; `cause` is the client library's error. */
export class BackendError extends HoldfastError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BACKEND', message, options);
  }
}

/** The client was closed; nothing more can be done with it. */
export class ClosedError extends HoldfastError {
  constructor() {
    super('CLOSED', 'the holdfast client is closed');
  }
}

/**
 * The backend cannot hold what was asked of it (a semaphore on a majority quorum, a sliding
 * window on etcd, …): refused at once, before any I/O, rather than misbehaving later.
 */
export class UnsupportedError extends HoldfastError {
  /** The backend's label: 'memory', 'redis', 'holdfast', 'etcd', … */
  readonly backend: string;
  /** What it lacks: 'rates', 'events', 'values', a lock kind, or `rates:<algorithm>`. */
  readonly capability: string;

  constructor(backend: string, capability: string, message: string) {
    super('UNSUPPORTED', message);
    this.backend = backend;
    this.capability = capability;
  }
}

/**
 * `waitReplicas`: a grant could not be made durable on the replicas asked for, and was released
 * (nothing is held). `reason` 'refused': the server will not count acknowledgements (`WAIT`
 * renamed or disabled, as managed services do, or a replica given as the primary), so
 * `waitReplicas` cannot work there at all; 'too-few': fewer than `needed` replicas acknowledged
 * within the bound (a replica down or lagging), so trying again later may succeed.
 */
export class ReplicationError extends HoldfastError {
  readonly reason: 'refused' | 'too-few';
  readonly needed: number;
  /** How many replicas acknowledged; null when the server refused to count. */
  readonly acknowledged: number | null;

  constructor(
    reason: ReplicationError['reason'],
    what: string,
    needed: number,
    acknowledged: number | null,
    options?: { cause?: unknown },
  ) {
    const detail =
      reason === 'refused'
        ? `the server refused WAIT, so no replica acknowledgement can be counted (a managed service that disabled it, or a replica given as the primary)`
        : `${acknowledged} of ${needed} replicas acknowledged it in time`;
    super('REPLICATION', `${what}: ${detail}`, options);
    this.reason = reason;
    this.needed = needed;
    this.acknowledged = acknowledged;
  }
}

/** What one node of a quorum did with a request. */
export type NodeOutcomeKind =
  | 'granted'
  | 'held-by-another'
  | 'not-held'
  | 'unreachable'
  | 'timed-out'
  | 'script-error'
  | 'recovering';

export interface NodeOutcome {
  /** host:port of the node. */
  readonly node: string;
  readonly outcome: NodeOutcomeKind;
  /** The socket error, the script error, or when a recovering node counts again. */
  readonly detail?: string;
}

/**
 * A quorum backend could not reach a majority of its nodes for `operation`: says what each node
 * did, so "unable to achieve a quorum" is never the whole story. Nothing was granted (partial
 * grants were released) for an acquire; for an extend the lease may be lost.
 */
export class QuorumError extends HoldfastError {
  readonly operation: 'acquire' | 'extend' | 'release' | 'read';
  readonly needed: number;
  readonly outcomes: readonly NodeOutcome[];

  constructor(operation: QuorumError['operation'], what: string, needed: number, outcomes: readonly NodeOutcome[]) {
    const counted = outcomes.filter((o) => o.outcome === 'granted').length;
    const each = outcomes.map((o) => `${o.node} ${o.outcome.replaceAll('-', ' ')}${o.detail ? ` (${o.detail})` : ''}`);
    super('QUORUM', `${what}: ${counted} of ${outcomes.length} nodes agreed, ${needed} needed: ${each.join('; ')}`);
    this.operation = operation;
    this.needed = needed;
    this.outcomes = outcomes;
  }
}

/** Wraps anything a backend threw so callers only ever see `HoldfastError`s. */
export function asBackendError(error: unknown, what: string): HoldfastError {
  if (error instanceof HoldfastError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new BackendError(`${what} failed: ${detail}`, { cause: error });
}

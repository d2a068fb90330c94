/**
 * The tiny interface the engine calls to report what it does. A client without a configured
 * OpenTelemetry provider gets `NO_TELEMETRY`, whose methods do nothing and allocate nothing, so
 * the hooks cost a few inlined calls per acquire (see `npm run bench`, "telemetry").
 */
import type { EventKind } from '../backend.js';

/** How a lock was granted: on the first ask, by a hand-off pushed with the wake-up, or on a later ask. */
export type GrantPath = 'immediate' | 'handoff' | 'retry';

/** How a lease ended. */
export type LeaseEnd = 'released' | 'detached' | 'lost';

/**
 * Why a lease was lost: `refused` — a renewal or extend found the backend no longer holds it
 * (expired there, or force-released); `deadline` — its local deadline passed before a renewal
 * was confirmed (a stalled loop, a slow or unreachable backend).
 */
export type LossReason = 'refused' | 'deadline';

/** One renewal (automatic or `extend()`): confirmed, refused by the backend, or failed (an error). */
export type RenewalOutcome = 'renewed' | 'refused' | 'failed';

/** A held lease, from its grant until it ends. */
export interface LeaseObservation {
  renewal(outcome: RenewalOutcome): void;
  ended(how: LeaseEnd, reason?: LossReason): void;
}

/** One acquisition (a try, a blocking acquire, or a waiting rate-limiter take) until it settles. */
export interface Acquisition {
  /** Runs `start` (the wait) and reports its rejection, or its synchronous throw, as `failed`. */
  around<T>(start: () => Promise<T>): Promise<T>;
  /** The lock was granted: the lease is observed from now on. */
  granted(path: GrantPath, fence: bigint): LeaseObservation;
  /** A waiting rate-limiter take was admitted. */
  admitted(path: GrantPath): void;
  /** A try found the lock taken (or others queued first). */
  refused(): void;
  failed(error: unknown): void;
}

export interface Telemetry {
  /** An acquisition starts; `waits` is false for a try. */
  acquiring(kind: EventKind, name: string, waits: boolean): Acquisition;
  /** A rate-limiter try was decided, by the backend or (`local`) by the remembered refusal. */
  rateTried(name: string, allowed: boolean, local: boolean): void;
}

const NO_LEASE: LeaseObservation = {
  renewal() {},
  ended() {},
};

/** The no-op acquisition: a caller may skip `around()` (a closure per acquire) when it gets this. */
export const NO_ACQUISITION: Acquisition = {
  around: (start) => start(),
  granted: () => NO_LEASE,
  admitted() {},
  refused() {},
  failed() {},
};

/** What a client reports through when no provider is configured: nothing, at no cost. */
export const NO_TELEMETRY: Telemetry = {
  acquiring: () => NO_ACQUISITION,
  rateTried() {},
};

export const NO_LEASE_OBSERVATION = NO_LEASE;

import type { Backend } from '../backend.js';
import { asBackendError, LeaseLostError } from '../errors.js';
import { type LeaseObservation, type LossReason, NO_LEASE_OBSERVATION } from '../telemetry/telemetry.js';
import type { Clock, Timer } from '../util/clock.js';
import { checkMs } from '../util/validate.js';

/** What a lease needs from the client that created it. */
export interface LeaseHost {
  readonly backend: Backend;
  readonly clock: Clock;
  /** Schedules the next automatic renewal (batched with other leases of the client). */
  scheduleRenewal(lease: Lease, at: number): void;
  cancelRenewal(lease: Lease): void;
  /** The lease ended (released or lost); the client stops tracking it. */
  ended(lease: Lease): void;
  /** A release in flight: `close()` waits for it before closing the connection. */
  inFlight(request: Promise<unknown>): void;
}

export interface LeaseGrant {
  readonly name: string;
  readonly token: string;
  readonly fence: bigint;
  readonly permits: number;
  readonly ttl: number;
  readonly autoExtend: boolean;
  /**
   * Local monotonic time no later than the grant on the backend: taken *before* the granting
   * request was sent (or, for a hand-off, derived from the waiter's last request).
   */
  readonly requestedAt: number;
  /** The TTL the backend armed for this grant, when not `ttl` (a hand-off's claim window). */
  readonly grantedTtl?: number;
  /** Where its renewals and its end are reported (telemetry). */
  readonly seen?: LeaseObservation;
  /**
   * Arm the deadline timer and the first renewal in the check phase, after the caller has
   * resumed (a hand-off: the latency that counts is release → the waiter runs). Nothing can be
   * late for it: both are due seconds later, and `valid` reads the deadline, set at once.
   */
  readonly armLater?: boolean;
}

/**
 * Clock drift allowance, as in Redlock: 1% of the TTL plus 2 ms. The local deadline is
 * `requestedAt + ttl - drift`, so it always falls before the backend could expire the lease
 * and re-grant it, even when the two clocks run at slightly different rates.
 */
export function driftMargin(ttl: number): number {
  return Math.floor(ttl * 0.01) + 2;
}

type LeaseState = 'held' | 'lost' | 'released' | 'detached';

/**
 * A granted hold on a lock or on permits. Renews itself (unless `autoExtend: false`) at about a
 * third of its TTL; when it cannot be sure it still holds, `signal` aborts with a
 * `LeaseLostError` and `valid` turns false.
 */
export class Lease {
  readonly name: string;
  /** The unguessable proof of ownership (128 random bits). */
  readonly token: string;
  /** Strictly greater than every earlier grant's fence for this name. */
  readonly fence: bigint;
  readonly permits: number;
  readonly autoExtend: boolean;
  readonly #host: LeaseHost;
  readonly #seen: LeaseObservation;
  /** Made on first use of `signal`: most leases are never asked for one. */
  #controller: AbortController | null = null;
  /** Why a lost lease ended (the signal's reason). */
  #lostError: LeaseLostError | null = null;
  #ttl: number;
  #deadline: number;
  #confirmedAt: number;
  #state: LeaseState = 'held';
  #deadlineTimer: Timer | null = null;

  constructor(host: LeaseHost, grant: LeaseGrant) {
    this.#host = host;
    this.#seen = grant.seen ?? NO_LEASE_OBSERVATION;
    this.name = grant.name;
    this.token = grant.token;
    this.fence = grant.fence;
    this.permits = grant.permits;
    this.autoExtend = grant.autoExtend;
    this.#ttl = grant.ttl;
    this.#confirmedAt = grant.requestedAt;
    const armed = grant.grantedTtl ?? grant.ttl;
    this.#deadline = grant.requestedAt + armed - driftMargin(armed);
    const first = Math.min(armed, grant.ttl);
    if (grant.armLater !== true) {
      this.#arm(first);
      return;
    }
    setImmediate(() => {
      // Unless it ended or an extend armed it meanwhile.
      if (this.#state === 'held' && this.#deadlineTimer === null) this.#arm(first);
    });
  }

  /** The TTL, in ms, that renewals re-arm. */
  get ttl(): number {
    return this.#ttl;
  }

  /** Aborted when the lease ends; `reason` is a `LeaseLostError` when it was lost. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#state !== 'held') this.#controller.abort(this.#endReason());
    }
    return this.#controller.signal;
  }

  /**
   * Synchronous and exact: false from the instant the local deadline passes, even while a
   * stalled event loop has not yet run the abort. Check it right before a guarded write.
   */
  get valid(): boolean {
    return this.#state === 'held' && this.#host.clock.now() < this.#deadline;
  }

  /** ms left before the local deadline (0 once it passed). */
  get remaining(): number {
    return this.#state === 'held' ? Math.max(0, this.#deadline - this.#host.clock.now()) : 0;
  }

  /**
   * Re-arms the lease for `ttl` ms from now (default: its current TTL); later renewals keep
   * that TTL. Rejects with `LeaseLostError` when the lease is no longer held.
   */
  async extend(ttl: number = this.#ttl): Promise<void> {
    checkMs(ttl, 'extend ttl');
    this.#assertHeld();
    const requestedAt = this.#host.clock.now();
    let held: boolean;
    try {
      held = await this.#host.backend.extend({ name: this.name, token: this.token, ttl });
    } catch (error) {
      this.#seen.renewal('failed');
      throw asBackendError(error, `extend of "${this.name}"`);
    }
    if (!held) {
      this.lose('the backend no longer holds it');
    }
    this.#assertHeld();
    this.#ttl = ttl;
    this.confirm(requestedAt);
  }

  /**
   * Frees the lease. Resolves true when the backend still held it; false when it had already
   * ended (a second release, or after expiry). Never frees anyone else's grant.
   */
  async release(): Promise<boolean> {
    if (this.#state === 'released' || this.#state === 'detached') return false;
    // Sent before anything else: a waiter's hand-off starts with this request.
    const sent = this.#host.backend.release(this.name, this.token);
    this.#host.inFlight(sent);
    // The client's bookkeeping (timers, renewal, its set of leases) waits until the request is
    // out: the Redis backend sends it at once, or from a process.nextTick queued before this
    // one when others are in flight (coalescer.ts), so a waiter's hand-off starts that much
    // sooner. Nothing outside can tell:
    // what runs in between (that tick, promise callbacks already due) reads the state, which
    // turns here, as does telemetry; no timer can fire before the tick. A lease whose signal
    // was asked for ends at once, as ever, so its listeners run after all of it.
    this.#end('released', undefined, this.#controller === null);
    try {
      return await sent;
    } catch (error) {
      throw asBackendError(error, `release of "${this.name}"`);
    }
  }

  /**
   * Stops renewing and forgets the lease here without releasing it: the backend frees it when
   * its TTL runs out. Keeps a name taken for a while after the work is done (one run per
   * schedule tick, say). `signal` aborts; a later `release()` returns false.
   */
  detach(): void {
    if (this.#state !== 'held') return;
    this.#end('detached');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  /** A renewal (or extend) sent at `requestedAt` was confirmed by the backend. */
  confirm(requestedAt: number): void {
    if (this.#state !== 'held' || requestedAt < this.#confirmedAt) return;
    // A confirmation that arrives after the deadline (a stalled loop ran this before the
    // deadline timer) must not bring the lease back: `valid` never turns true again.
    if (this.#host.clock.now() >= this.#deadline) {
      this.#loseAtDeadline();
      return;
    }
    this.#seen.renewal('renewed');
    this.#confirmedAt = requestedAt;
    this.#deadline = requestedAt + this.#ttl - driftMargin(this.#ttl);
    this.#arm();
  }

  /** Renewal failed for a passing reason: try again soon, unless the deadline comes first. */
  retrySoon(): void {
    if (this.#state !== 'held' || !this.autoExtend) return;
    this.#seen.renewal('failed');
    const now = this.#host.clock.now();
    this.#host.scheduleRenewal(this, Math.min(this.#deadline, now + Math.max(this.#ttl / 10, 20)));
  }

  /** A renewal or extend found the backend no longer holds it: aborts `signal` with a `LeaseLostError`. */
  lose(why: string, cause?: unknown): void {
    if (this.#state !== 'held') return;
    this.#seen.renewal('refused');
    this.#lose('refused', why, cause);
  }

  #lose(reason: LossReason, why: string, cause?: unknown): void {
    this.#lostError = new LeaseLostError(this.name, why, cause === undefined ? { reason } : { cause, reason });
    this.#end('lost', reason);
  }

  #assertHeld(): void {
    if (this.#state === 'held' && !this.valid) this.#loseAtDeadline();
    if (this.#state !== 'held') {
      throw this.#lostError ?? new LeaseLostError(this.name, `it was ${this.#state}`, { reason: 'ended' });
    }
  }

  #endReason(): unknown {
    return this.#lostError ?? new DOMException(`lease ${this.#state}`, 'AbortError');
  }

  /** Arms the deadline timer and, if renewing, the next renewal a third of `ttl` from the last confirmation. */
  #arm(ttl = this.#ttl): void {
    this.#deadlineTimer?.cancel();
    const now = this.#host.clock.now();
    this.#deadlineTimer = this.#host.clock.setTimer(() => this.#onDeadline(), this.#deadline - now);
    if (this.autoExtend) this.#host.scheduleRenewal(this, this.#confirmedAt + ttl / 3);
  }

  #onDeadline(): void {
    if (this.#state !== 'held') return;
    if (this.#host.clock.now() >= this.#deadline) this.#loseAtDeadline();
    else this.#arm();
  }

  #loseAtDeadline(): void {
    if (this.#state === 'held') this.#lose('deadline', 'its local deadline passed before a renewal was confirmed');
    // The backend may still hold it (a late reply, a stalled loop): free it for others, since
    // this holder has already been told it lost. If this fails the backend TTL frees it.
    this.#host.backend.release(this.name, this.token).catch(() => {});
  }

  /** `untrackAfterSend`: the bookkeeping (#untrack) in the next tick, see release(). */
  #end(state: Exclude<LeaseState, 'held'>, reason?: LossReason, untrackAfterSend = false): void {
    this.#state = state;
    this.#seen.ended(state, reason);
    if (untrackAfterSend) process.nextTick(() => this.#untrack());
    else this.#untrack();
    this.#controller?.abort(this.#endReason());
  }

  /** No timer, no renewal, and the client no longer tracks it. */
  #untrack(): void {
    this.#deadlineTimer?.cancel();
    this.#deadlineTimer = null;
    this.#host.cancelRenewal(this);
    this.#host.ended(this);
  }
}

import type { Backend } from '../backend.js';
import type { Clock, Timer } from '../util/clock.js';
import type { Lease } from './lease.js';

/**
 * Leases due within this many ms of the earliest one ride along in its batch: renewing a
 * little early costs nothing, a second round trip does.
 */
const BATCH_WINDOW_MS = 25;

/**
 * Renews every auto-extending lease of one client with one timer and one round trip per batch
 * (`extendMany`). A lease is never renewed twice at once: it is out of the schedule while its
 * renewal is in flight.
 */
export class Renewer {
  readonly #backend: Backend;
  readonly #clock: Clock;
  readonly #due = new Map<Lease, number>();
  #timer: Timer | null = null;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(backend: Backend, clock: Clock) {
    this.#backend = backend;
    this.#clock = clock;
  }

  schedule(lease: Lease, at: number): void {
    this.#due.set(lease, at);
    if (at < this.#timerAt) this.#rearm();
  }

  cancel(lease: Lease): void {
    this.#due.delete(lease);
  }

  /**
   * Moves the scheduled renewals of the leases `which` selects to now. A lease whose renewal is
   * in flight is not in the schedule, and its answer is what a renewal now would tell.
   */
  renewNow(which: (lease: Lease) => boolean): void {
    const now = this.#clock.now();
    let moved = false;
    for (const [lease, at] of this.#due) {
      if (at > now && which(lease)) {
        this.#due.set(lease, now);
        moved = true;
      }
    }
    if (moved) this.#rearm();
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#due.clear();
  }

  #rearm(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    let earliest = Number.POSITIVE_INFINITY;
    for (const at of this.#due.values()) earliest = Math.min(earliest, at);
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.#timerAt = earliest;
    this.#timer = this.#clock.setTimer(() => this.#tick(), earliest - this.#clock.now());
  }

  #tick(): void {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const horizon = this.#clock.now() + BATCH_WINDOW_MS;
    const batch: Lease[] = [];
    for (const [lease, at] of this.#due) {
      if (at <= horizon) batch.push(lease);
    }
    for (const lease of batch) this.#due.delete(lease);
    if (batch.length > 0) void this.#renew(batch);
    this.#rearm();
  }

  async #renew(batch: readonly Lease[]): Promise<void> {
    const requestedAt = this.#clock.now();
    const requests = batch.map((lease) => ({ name: lease.name, token: lease.token, ttl: lease.ttl }));
    let results: boolean[];
    try {
      results = await this.#backend.extendMany(requests);
    } catch {
      // A passing failure (connection blip): retry soon; the lease's own deadline timer
      // signals the loss if no renewal is confirmed in time.
      for (const lease of batch) lease.retrySoon();
      return;
    }
    batch.forEach((lease, i) => {
      if (results[i] === true) lease.confirm(requestedAt);
      else lease.lose('the backend no longer holds it (expired, force-released, or lost in a failover)');
    });
  }
}

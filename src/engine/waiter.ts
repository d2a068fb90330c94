import type { HandoffGrant } from '../backend.js';
import { asBackendError } from '../errors.js';
import type { Timer } from '../util/clock.js';
import type { ClientCore, PendingWaiter } from './core.js';

/**
 * The outcome of one turn in line: done, or ask again (exactly after `retryAfter` ms if known).
 * `serverTime` is the backend's clock at the decision (µs), for placing a later hand-off in time.
 */
export type Turn<T> =
  | { readonly done: T }
  | { readonly retryAfter: number | null; readonly serverTime?: number | null };

/** A local time and the backend's time at which the backend answered a request sent then. */
export interface Sync {
  /** Local monotonic time, taken before the request was sent. */
  readonly requestedAt: number;
  /** The backend's clock when it answered, integer µs. */
  readonly serverTime: number;
}

export interface Line<T> {
  readonly name: string;
  /**
   * One round trip to the backend: take the turn, or (re)join / refresh the queue entry.
   * `requestedAt` is the local time taken just before sending.
   */
  ask(token: string, requestedAt: number): Promise<Turn<T>>;
  /** The result of a hand-off `grant` that arrived with the wake-up (locks only). */
  granted?(token: string, grant: HandoffGrant, sync: Sync): T;
  /** Leaves the queue, or undoes a grant that raced with giving up. */
  leave(token: string): Promise<unknown>;
  /** The error for running out of `wait`. */
  timeout(wait: number): Error;
}

export interface WaitOptions {
  /** ms to wait; undefined waits until done or aborted. */
  readonly wait?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Waits in a backend's FIFO queue; rejects with `line.timeout(wait)` or `signal.reason`. */
export function waitInLine<T>(core: ClientCore, line: Line<T>, options: WaitOptions): Promise<T> {
  core.assertOpen();
  options.signal?.throwIfAborted();
  return new Waiter(core, line, options).promise;
}

/**
 * On a backend without pushes (`wakeups: 'poll'`), a waiter asks again this often at most (it
 * still asks exactly at `retryAfter` when that comes sooner): a release is noticed this late.
 */
export const POLL_INTERVAL_MS = 250;

/**
 * A waiter is woken by the backend's push (hand-off), asks again exactly when its turn can come
 * (when it heads the queue and the backend said when), and otherwise only refreshes its queue
 * entry on a slow safety timer that also covers a lost notification. It never polls, unless
 * the backend has no pushes (`capabilities.wakeups === 'poll'`): then the safety timer is
 * `POLL_INTERVAL_MS`.
 */
class Waiter<T> implements PendingWaiter {
  readonly promise: Promise<T>;
  readonly #core: ClientCore;
  readonly #line: Line<T>;
  readonly #signal: AbortSignal | undefined;
  /** Made only for a waiter given a signal: most acquires have none. */
  readonly #onAbort: (() => void) | null;
  readonly #token: string;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  #inFlight = false;
  #again = false;
  #timeout: Timer | null = null;
  #retry: Timer | null = null;
  /** From the latest reply that left us queued: when the backend last saw us waiting. */
  #sync: Sync | null = null;
  /** Local time of our latest request: our queue entry lives `waiterTtl` from about then. */
  #askedAt = 0;

  constructor(core: ClientCore, line: Line<T>, options: WaitOptions) {
    this.#core = core;
    this.#line = line;
    this.#token = core.newToken();
    this.#signal = options.signal;
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    core.addWaiter(this.#token, this);
    const wait = options.wait;
    if (wait !== undefined) {
      // Kept alive: whoever awaits this must hear the timeout even when nothing else is pending.
      this.#timeout = core.clock.setTimer(() => void this.abandon(line.timeout(wait)), wait, true);
    }
    const signal = options.signal;
    if (signal) {
      const onAbort = (): void => void this.abandon(signal.reason);
      this.#onAbort = onAbort;
      signal.addEventListener('abort', onAbort, { once: true });
    } else {
      this.#onAbort = null;
    }
    this.#attempt();
  }

  wake(grant: HandoffGrant | null, retryAfter?: number): void {
    const build = this.#line.granted;
    if (grant && this.#sync && build && !this.#settled) {
      // Held from this message on: no second round trip (see src/backend.ts). The caller
      // resumes first; the timers to cancel wait for the check phase, which comes before any of
      // them could fire (and each checks #settled anyway).
      this.#settled = true;
      this.#resolve(build.call(this.#line, this.#token, grant, this.#sync));
      setImmediate(() => this.#finish());
      return;
    }
    if (grant === null && retryAfter !== undefined && !this.#inFlight && !this.#settled) {
      // We head the queue now, and the backend said when our turn can come: ask then.
      this.#scheduleRetry(retryAfter, this.#core.clock.now());
      return;
    }
    this.#attempt();
  }

  resync(): void {
    this.#sync = null;
    this.#attempt();
  }

  abandon(error: unknown): Promise<void> {
    if (this.#settled) return Promise.resolve();
    this.#finish();
    this.#reject(error);
    // Sent after any attempt in flight on the same connection, so it also undoes a grant
    // whose reply has not arrived yet.
    return this.#line.leave(this.#token).then(
      () => {},
      () => {},
    );
  }

  #attempt(): void {
    if (this.#settled) return;
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    this.#inFlight = true;
    const requestedAt = this.#core.clock.now();
    this.#askedAt = requestedAt;
    this.#line.ask(this.#token, requestedAt).then(
      (turn) => {
        this.#inFlight = false;
        if (this.#settled) return;
        if ('done' in turn) {
          this.#finish();
          this.#resolve(turn.done);
          return;
        }
        if (turn.serverTime != null) this.#sync = { requestedAt, serverTime: turn.serverTime };
        if (this.#again) {
          // Woken while this request was out: ask again now (its reply schedules what follows).
          this.#again = false;
          this.#attempt();
          return;
        }
        // A backend that says when it decided counts retryAfter from then, after our send; a
        // back-off of the client's own (a quorum's, with no backend time) counts from its reply.
        this.#scheduleRetry(turn.retryAfter, turn.serverTime != null ? requestedAt : this.#core.clock.now());
      },
      (error: unknown) => {
        this.#inFlight = false;
        void this.abandon(asBackendError(error, `waiting for "${this.#line.name}"`));
      },
    );
  }

  /**
   * Ask again when the head's turn comes; else refresh the queue entry well before its TTL,
   * counted from our latest request (a wake-up that moves the retry refreshes nothing).
   *
   * The backend counts `retryAfter` from its decision, which it took after `since` (the send
   * time of the request it answered, or now for a wake-up or a client-side back-off): we ask at
   * `since + retryAfter`, with
   * no guard. The request then reaches the backend about when the holder expires; one that
   * arrives a little early is never granted early (the backend decides on its own clock): it is
   * answered with what is left, and asked again then. So a take-over costs a timer's lateness
   * and a round trip, not a whole-ms rounding and a guard besides.
   */
  #scheduleRetry(retryAfter: number | null, since: number): void {
    this.#retry?.cancel();
    const every = this.#core.polls ? Math.min(POLL_INTERVAL_MS, this.#core.waiterTtl / 3) : this.#core.waiterTtl / 3;
    const refreshAt = this.#askedAt + every;
    this.#askAt(retryAfter === null ? refreshAt : Math.min(refreshAt, since + Math.max(0, retryAfter)));
  }

  /**
   * Asks at local time `at`, not before, or at once when it has passed (a slow round trip). A
   * timer may fire up to a ms early (Node counts it from the loop's cached whole-ms time, taken
   * before this turn's work): one that does is armed again for what is left.
   */
  #askAt(at: number): void {
    const delay = at - this.#core.clock.now();
    if (delay <= 0) {
      this.#retry = null;
      this.#attempt();
      return;
    }
    this.#retry = this.#core.clock.setTimer(() => this.#askAt(at), delay);
  }

  #finish(): void {
    this.#settled = true;
    this.#core.removeWaiter(this.#token);
    this.#timeout?.cancel();
    this.#retry?.cancel();
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}

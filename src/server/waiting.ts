/**
 * The server waiting on a client's behalf (HOLDFAST.LOCK / TAKE with WAIT): one queue entry in
 * the store, woken by the store's own hand-off, asking again exactly when the head's turn can
 * come, refreshing its entry on a slow timer. No polling, and nothing for the client to do.
 */
import { DEFAULT_WAITER_TTL } from '../defaults.js';
import type { Timer } from '../util/clock.js';
import type { Reply } from './reply.js';
import type { SessionView, SessionWaiter } from './session.js';

/** The queue entry's own TTL (the library's default): the server refreshes it at a third of this while it waits. */
export const SERVER_WAITER_TTL = DEFAULT_WAITER_TTL;

export type Turn = { readonly done: Reply } | { readonly retryAfter: number | null };

export interface WaitSpec {
  readonly token: string;
  /** ms to wait before replying `timedOut()`. */
  readonly wait: number;
  /** One synchronous step on the store: done, or still queued. */
  ask(): Turn;
  /** Leaves the queue, or frees a grant nobody will be told of. */
  leave(): void;
  timedOut(): Reply;
  /** A failed step's reply (a limit, say); the wait ends with it. */
  failed(error: unknown): Reply;
}

export function waitOnServer(session: SessionView, spec: WaitSpec): Promise<Reply> {
  return new Promise((resolve) => {
    const waiter = new ServerWaiter(session, spec, resolve);
    waiter.wake();
  });
}

class ServerWaiter implements SessionWaiter {
  readonly #session: SessionView;
  readonly #spec: WaitSpec;
  readonly #resolve: (reply: Reply) => void;
  readonly #deadline: Timer;
  #retry: Timer | null = null;
  #settled = false;

  constructor(session: SessionView, spec: WaitSpec, resolve: (reply: Reply) => void) {
    this.#session = session;
    this.#spec = spec;
    this.#resolve = resolve;
    session.waiters.set(spec.token, this);
    this.#deadline = session.ctx.store.clock.setTimer(() => this.cancel(spec.timedOut()), spec.wait);
  }

  wake(): void {
    if (this.#settled) return;
    let turn: Turn;
    try {
      turn = this.#spec.ask();
    } catch (error) {
      this.cancel(this.#spec.failed(error));
      return;
    }
    if ('done' in turn) {
      this.#finish(turn.done);
      return;
    }
    this.#retry?.cancel();
    const refresh = SERVER_WAITER_TTL / 3;
    const delay = turn.retryAfter === null ? refresh : Math.min(refresh, Math.max(0, turn.retryAfter) + 1);
    this.#retry = this.#session.ctx.store.clock.setTimer(() => this.wake(), delay);
  }

  cancel(reply: Reply): void {
    if (this.#settled) return;
    this.#spec.leave();
    this.#finish(reply);
  }

  #finish(reply: Reply): void {
    this.#settled = true;
    this.#deadline.cancel();
    this.#retry?.cancel();
    this.#session.waiters.delete(this.#spec.token);
    this.#resolve(reply);
  }
}

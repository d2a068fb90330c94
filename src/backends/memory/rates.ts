import type { LockEventType, RateRequest, RateResult } from '../../backend.js';
import type { Timer } from '../../util/clock.js';
import { micros, type StoreServices } from './services.js';

interface Admission {
  readonly at: number;
  readonly cost: number;
}

/** A queued waiter as of its latest ask (asking again refreshes all three, keeping its place). */
interface RateWaiter {
  cost: number;
  clientId: string;
  expiresAt: number;
}

interface RateState {
  readonly name: string;
  /** sliding-window: admissions still inside the window, oldest first, and their total cost. */
  readonly log: Admission[];
  used: number;
  /** token-bucket: the theoretical arrival time (GCRA). */
  tat: number;
  /** fixed-window: the current aligned window and what it has admitted. */
  win: number;
  count: number;
  /** FIFO, like the lock queue: Map iteration order is insertion order. */
  readonly queue: Map<string, RateWaiter>;
  timer: Timer | null;
}

/**
 * Float slack for GCRA comparisons, so window / limit rounding never refuses an exact fit: as in
 * includes/rate-algorithms.lua, 0.001 ms or half an emission interval if that is less. Times are
 * wall ms near 1.7e12, where a double keeps only about 0.0002 ms (1e-6 refused the last token of
 * a burst when window / limit is not exact: found by the differential test).
 */
const RATE_EPSILON = 1e-3;

function slack(interval: number): number {
  return Math.min(RATE_EPSILON, interval / 2);
}

/**
 * Rate limiters of the memory backend (see `RateAlgorithm` in src/backend.ts for the three
 * algorithms and the FIFO waiter rules, which the Redis scripts implement identically).
 */
export class RateTable {
  readonly #services: StoreServices;
  /**
   * Rate decisions run on the wall clock in ms, as Redis's TIME does, so fixed windows align
   * to the epoch on every backend and `at` / `resetAt` are comparable across them.
   */
  readonly #now = (): number => this.#services.clock.wallMicros() / 1000;
  readonly #names = new Map<string, RateState>();

  constructor(services: StoreServices) {
    this.#services = services;
  }

  take(clientId: string, req: RateRequest): RateResult {
    const now = this.#now();
    const state = this.#state(req.name);
    this.#purge(state, req, now);
    const head = state.queue.keys().next().value;
    const mayGo = req.token === null ? head === undefined : head === undefined || head === req.token;
    if (mayGo && this.#fitIn(state, req, req.cost, now) <= 0) {
      this.#admit(state, req, now);
      if (req.token !== null && state.queue.delete(req.token)) this.#wakeHead(state);
      return this.#settle(state, req, this.#result(state, req, now, true, 0, -1));
    }
    this.#emit(state, 'rate-limited', req.cost);
    if (req.token === null) {
      const queued = [...state.queue.values()].reduce((sum, w) => sum + w.cost, 0);
      // fitIn is negative when it would fit (a token bucket's room): an exact wait of 0, as
      // rate-take.lua says; a negative one would read as "not known" (-1)
      const exact = Math.max(0, this.#fitIn(state, req, req.cost + queued, now));
      return this.#settle(state, req, this.#result(state, req, now, false, Math.max(1, exact), -1, exact));
    }
    const entry = state.queue.get(req.token);
    if (entry) {
      // As rate-queue.lua does: the latest ask is what the waiter waits for, so a try behind it
      // is told when that fits, and it is woken on the client that asked last.
      entry.cost = req.cost;
      entry.clientId = clientId;
      entry.expiresAt = now + req.waiterTtl;
    } else {
      state.queue.set(req.token, { cost: req.cost, clientId, expiresAt: now + req.waiterTtl });
      this.#emit(state, 'waiting', req.cost);
    }
    const position = [...state.queue.keys()].indexOf(req.token);
    const retryAfter = position === 0 ? Math.max(0, this.#fitIn(state, req, req.cost, now)) : -1;
    return this.#settle(state, req, this.#result(state, req, now, false, retryAfter, position, retryAfter));
  }

  leave(name: string, token: string): void {
    const state = this.#names.get(name);
    const waiter = state?.queue.get(token);
    if (!state || !waiter) return;
    const wasHead = state.queue.keys().next().value === token;
    state.queue.delete(token);
    this.#emit(state, 'left', waiter.cost);
    if (wasHead) this.#wakeHead(state);
  }

  #state(name: string): RateState {
    let state = this.#names.get(name);
    if (!state) {
      state = { name, log: [], used: 0, tat: 0, win: -1, count: 0, queue: new Map(), timer: null };
      this.#names.set(name, state);
    }
    return state;
  }

  #purge(state: RateState, req: RateRequest, now: number): void {
    while (state.log.length > 0 && (state.log[0] as Admission).at <= now - req.window) {
      state.used -= (state.log.shift() as Admission).cost;
    }
    const win = Math.floor(now / req.window);
    if (state.win !== win) {
      state.win = win;
      state.count = 0;
    }
    const head = state.queue.keys().next().value;
    for (const [token, waiter] of state.queue) {
      if (waiter.expiresAt > now) continue;
      state.queue.delete(token);
      this.#emit(state, 'left', waiter.cost);
    }
    if (head !== undefined && !state.queue.has(head)) this.#wakeHead(state);
  }

  /** ms until `amount` fits (<= 0: it fits now). */
  #fitIn(state: RateState, req: RateRequest, amount: number, now: number): number {
    if (req.algorithm === 'token-bucket') {
      const interval = req.window / req.limit;
      const next = Math.max(state.tat, now) + amount * interval;
      return next - req.burst * interval - now - slack(interval);
    }
    if (req.algorithm === 'fixed-window') {
      return state.count + amount <= req.limit ? 0 : (state.win + 1) * req.window - now;
    }
    let excess = state.used + amount - req.limit;
    if (excess <= 0) return 0;
    for (const admission of state.log) {
      excess -= admission.cost;
      // still in the window, so later than now by a float's rounding at least: never 0 (fits),
      // as rate-algorithms.lua
      if (excess <= 0) return Math.max(admission.at + req.window - now, 0.001);
    }
    return req.window;
  }

  #admit(state: RateState, req: RateRequest, now: number): void {
    if (req.algorithm === 'token-bucket') {
      state.tat = Math.max(state.tat, now) + req.cost * (req.window / req.limit);
    } else if (req.algorithm === 'fixed-window') {
      state.count += req.cost;
    } else {
      state.log.push({ at: now, cost: req.cost });
      state.used += req.cost;
    }
  }

  #result(
    state: RateState,
    req: RateRequest,
    now: number,
    allowed: boolean,
    retryAfter: number,
    position: number,
    exact = 0,
  ): RateResult {
    let remaining: number;
    let resetIn: number;
    if (req.algorithm === 'token-bucket') {
      const interval = req.window / req.limit;
      remaining = Math.floor((req.burst * interval - (Math.max(state.tat, now) - now) + slack(interval)) / interval);
      // with the same slack as the limit, as rate-algorithms.lua does
      const offset = Math.max(0, state.tat - now);
      resetIn = offset <= slack(interval) ? 0 : offset - slack(interval);
    } else if (req.algorithm === 'fixed-window') {
      remaining = req.limit - state.count;
      resetIn = state.count > 0 ? (state.win + 1) * req.window - now : 0;
    } else {
      remaining = req.limit - state.used;
      const newest = state.log[state.log.length - 1];
      resetIn = newest ? newest.at + req.window - now : 0;
    }
    // Whole ms, as from Redis: waiting times rounded up (never early), the instant down; the
    // exact wait in whole µs rounded up, as rate-take.lua gives it, and the store's µs clock
    // (the one lock results carry).
    return {
      allowed,
      remaining: Math.max(0, remaining),
      retryAfter: retryAfter > 0 ? Math.ceil(retryAfter) : retryAfter,
      resetIn: Math.ceil(resetIn),
      at: Math.floor(now),
      position,
      ...(exact >= 0 ? { exactRetryAfter: Math.ceil(Math.max(0, exact) * 1000) / 1000 } : {}),
      serverTime: micros(this.#services.clock.now()),
    };
  }

  #wakeHead(state: RateState): void {
    const [token, waiter] = state.queue.entries().next().value ?? [];
    if (token !== undefined && waiter) this.#services.wake(waiter.clientId, token, null);
  }

  #emit(state: RateState, type: LockEventType, cost: number): void {
    const at = Math.floor(this.#now());
    this.#services.events.emit({
      type,
      name: state.name,
      kind: 'rate-limiter',
      fence: null,
      permits: cost,
      owner: null,
      at,
      expiresIn: null,
    });
  }

  /** Forgets a limiter once it is back to full capacity with nobody waiting; else re-arms. */
  #settle<T>(state: RateState, req: RateRequest, result: T): T {
    state.timer?.cancel();
    state.timer = null;
    const now = this.#now();
    const idle = this.#result(state, req, now, true, 0, -1).resetIn;
    if (idle <= 0 && state.queue.size === 0) {
      this.#names.delete(state.name);
      return result;
    }
    // Wake up when the limiter could be forgotten, or a waiter's entry runs out.
    let next = idle > 0 ? now + idle : Number.POSITIVE_INFINITY;
    for (const waiter of state.queue.values()) next = Math.min(next, waiter.expiresAt);
    if (next === Number.POSITIVE_INFINITY) return result;
    state.timer = this.#services.clock.setTimer(() => {
      this.#purge(state, req, this.#now());
      this.#settle(state, req, null);
    }, next - now);
    return result;
  }
}

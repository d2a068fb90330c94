import type { AcquireRequest, AcquireResult, BackendEvent, LockEventType, LockKind, LockState } from '../../backend.js';
import { decodeOwner, type Json } from '../../owner.js';
import type { Timer } from '../../util/clock.js';
import { globToRegExp } from '../../util/glob.js';
import { micros, type StoreServices } from './services.js';

interface Holder {
  readonly permits: number;
  readonly fence: bigint;
  readonly owner: Json;
  expiresAt: number;
}

interface QueuedWaiter {
  readonly permits: number;
  readonly limit: number;
  /** The claim window its client sent: how long a hand-off grant to it lasts. */
  readonly claimTtl: number;
  readonly clientId: string;
  readonly owner: Json;
  expiresAt: number;
}

interface NameState {
  readonly name: string;
  kind: LockKind;
  limit: number;
  used: number;
  readonly holders: Map<string, Holder>;
  /** Map iteration order is insertion order: the FIFO queue. Refreshing keeps the place. */
  readonly queue: Map<string, QueuedWaiter>;
  timer: Timer | null;
}

/**
 * Locks and semaphores of the memory backend: the algorithm of src/backend.ts (the same as the
 * Redis scripts) in synchronous JavaScript, so each operation is atomic within one event-loop
 * turn. Expiry runs on a timer at the exact TTL, so waiters take over at once. Owners are
 * parsed once, when a request brings them.
 */
export class LockTable {
  readonly #services: StoreServices;
  readonly #names = new Map<string, NameState>();

  constructor(services: StoreServices) {
    this.#services = services;
  }

  acquire(clientId: string, req: AcquireRequest): AcquireResult {
    const state = this.#state(req.name, req.kind, req.limit);
    const now = this.#services.clock.now();
    this.#prepare(state, now, req.token);
    const held = state.holders.get(req.token);
    if (held) {
      held.expiresAt = now + req.ttl;
      return this.#settle(state, { granted: true, fence: held.fence }, now);
    }
    const head = state.queue.keys().next().value;
    if ((head === undefined || head === req.token) && state.used + req.permits <= req.limit) {
      state.queue.delete(req.token);
      const who = { permits: req.permits, owner: decodeOwner(req.owner) };
      const fence = this.#grant(state, req.token, who, now, req.ttl, 'acquired');
      this.#drain(state, now, null);
      return this.#settle(state, { granted: true, fence }, now);
    }
    if (!req.enqueue) {
      return this.#settle(state, { granted: false, position: -1, retryAfter: null, serverTime: micros(now) }, now);
    }
    // A refresh rewrites the entry from this request (as the Redis script does); Map.set on a
    // key already there keeps its place in the queue.
    const refresh = state.queue.has(req.token);
    const { permits, limit, claimTtl, waiterTtl } = req;
    const owner = decodeOwner(req.owner);
    state.queue.set(req.token, { permits, limit, claimTtl, owner, clientId, expiresAt: now + waiterTtl });
    if (!refresh) this.#emit(state, 'waiting', null, permits, owner, null);
    const position = [...state.queue.keys()].indexOf(req.token);
    const retryAfter = position === 0 ? this.#earliestHolderExpiry(state) - now : null;
    return this.#settle(state, { granted: false, position, retryAfter, serverTime: micros(now) }, now);
  }

  release(name: string, token: string): boolean {
    const state = this.#names.get(name);
    if (!state) return false;
    const now = this.#services.clock.now();
    this.#prepare(state, now, null);
    const holder = state.holders.get(token);
    if (holder) this.#removeHolder(state, token, holder, 'released');
    else this.#removeWaiter(state, token);
    this.#drain(state, now, null);
    this.#settle(state, null, now);
    return holder !== undefined;
  }

  extend(name: string, token: string, ttl: number): boolean {
    const state = this.#names.get(name);
    if (!state) return false;
    const now = this.#services.clock.now();
    this.#prepare(state, now, null);
    const holder = state.holders.get(token);
    if (holder) holder.expiresAt = now + ttl;
    this.#settle(state, null, now);
    return holder !== undefined;
  }

  forceRelease(name: string): number {
    const state = this.#names.get(name);
    if (!state) return 0;
    const now = this.#services.clock.now();
    this.#prepare(state, now, null);
    const count = state.holders.size;
    for (const [token, holder] of state.holders) this.#removeHolder(state, token, holder, 'lost');
    this.#drain(state, now, null);
    this.#settle(state, null, now);
    return count;
  }

  /** Purges and drains now; returns ms until the name's next expiry, or null. */
  sweep(name: string): number | null {
    const state = this.#names.get(name);
    if (!state) return null;
    const now = this.#services.clock.now();
    this.#prepare(state, now, null);
    this.#settle(state, null, now);
    const next = this.#nextExpiry(state);
    return Number.isFinite(next) ? Math.max(0, next - now) : null;
  }

  inspect(name: string): LockState | null {
    const state = this.#names.get(name);
    if (!state) return null;
    const now = this.#services.clock.now();
    this.#prepare(state, now, null);
    this.#settle(state, null, now);
    if (state.holders.size === 0 && state.queue.size === 0) return null;
    return {
      name,
      kind: state.kind,
      limit: state.limit,
      holders: [...state.holders.values()].map((h) => ({
        fence: h.fence,
        permits: h.permits,
        expiresIn: Math.max(0, h.expiresAt - now),
        owner: h.owner,
      })),
      waiters: [...state.queue.values()].map((w) => ({ permits: w.permits, owner: w.owner })),
    };
  }

  list(pattern: string): string[] {
    const matcher = globToRegExp(pattern);
    return [...this.#names.keys()].filter((name) => matcher.test(name)).sort();
  }

  #state(name: string, kind: LockKind, limit: number): NameState {
    let state = this.#names.get(name);
    if (!state) {
      state = { name, kind, limit, used: 0, holders: new Map(), queue: new Map(), timer: null };
      this.#names.set(name, state);
    }
    state.kind = kind;
    state.limit = limit;
    return state;
  }

  /** Every operation starts here: expired entries go, and freed permits are handed on. */
  #prepare(state: NameState, now: number, quietToken: string | null): void {
    for (const [token, holder] of state.holders) {
      if (holder.expiresAt <= now) this.#removeHolder(state, token, holder, 'expired');
    }
    for (const [token, waiter] of state.queue) {
      if (waiter.expiresAt <= now) this.#removeWaiter(state, token, waiter);
    }
    this.#drain(state, now, quietToken);
  }

  /**
   * Grants `token` for `ttl` ms from `now` (the operation's clock reading). Its event says it
   * expires in `ttl` ms, as the Redis scripts' do: read from the clock again when the event is
   * built, a ms lost in between (a loaded machine) showed a 30000 ms grant as 29999.
   */
  #grant(
    state: NameState,
    token: string,
    who: { readonly permits: number; readonly owner: Json },
    now: number,
    ttl: number,
    type: 'acquired' | 'handoff',
  ): bigint {
    const fence = this.#services.nextFence();
    state.holders.set(token, { permits: who.permits, fence, owner: who.owner, expiresAt: now + ttl });
    state.used += who.permits;
    this.#emit(state, type, fence, who.permits, who.owner, ttl);
    return fence;
  }

  #removeHolder(state: NameState, token: string, holder: Holder, type: LockEventType): void {
    state.holders.delete(token);
    state.used -= holder.permits;
    this.#emit(state, type, holder.fence, holder.permits, holder.owner, null);
  }

  #removeWaiter(state: NameState, token: string, waiter = state.queue.get(token)): void {
    if (!waiter) return;
    state.queue.delete(token);
    this.#emit(state, 'left', null, waiter.permits, waiter.owner, null);
  }

  /**
   * Hands free permits to the head of the queue, in order, and wakes each one granted, except
   * `quietToken`: the caller of the current operation, which learns it from the result.
   */
  #drain(state: NameState, now: number, quietToken: string | null): void {
    for (const [token, waiter] of state.queue) {
      if (state.used + waiter.permits > waiter.limit) return;
      state.queue.delete(token);
      const fence = this.#grant(state, token, waiter, now, waiter.claimTtl, 'handoff');
      if (token !== quietToken) this.#services.wake(waiter.clientId, token, { fence, serverTime: micros(now) });
    }
  }

  #emit(
    state: NameState,
    type: LockEventType,
    fence: bigint | null,
    permits: number,
    owner: Json,
    expiresIn: number | null,
  ): void {
    // Nobody watches (a server without watchers, most apps): no event to build, no clocks to read.
    if (!this.#services.events.listening) return;
    const clock = this.#services.clock;
    const event: BackendEvent = {
      type,
      name: state.name,
      kind: state.kind,
      fence,
      permits,
      owner,
      at: Math.floor(clock.wallMicros() / 1000),
      expiresIn: expiresIn === null ? null : Math.ceil(expiresIn),
    };
    this.#services.events.emit(event);
  }

  #earliestHolderExpiry(state: NameState): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const holder of state.holders.values()) earliest = Math.min(earliest, holder.expiresAt);
    return earliest;
  }

  #nextExpiry(state: NameState): number {
    let next = this.#earliestHolderExpiry(state);
    for (const waiter of state.queue.values()) next = Math.min(next, waiter.expiresAt);
    return next;
  }

  /**
   * Forgets idle names and arms one timer for the name's next expiry, then returns `result`.
   * `now`: the operation's time (the clock is read once per operation).
   */
  #settle<T>(state: NameState, result: T, now: number): T {
    state.timer?.cancel();
    state.timer = null;
    if (state.holders.size === 0 && state.queue.size === 0) {
      this.#names.delete(state.name);
      return result;
    }
    state.timer = this.#services.clock.setTimer(() => this.sweep(state.name), this.#nextExpiry(state) - now);
    return result;
  }
}

import type { AcquireRequest, AcquireResult, LockKind, LockState, WakeListener } from '../../backend.js';
import { type Clock, realClock, type Timer } from '../../clock.js';
import { globToRegExp } from '../../glob.js';

interface Holder {
  readonly permits: number;
  readonly fence: bigint;
  readonly owner: string;
  expiresAt: number;
}

interface QueuedWaiter {
  readonly permits: number;
  readonly limit: number;
  readonly ttl: number;
  readonly waiterTtl: number;
  readonly clientId: string;
  readonly owner: string;
  expiresAt: number;
}

interface NameState {
  kind: LockKind;
  limit: number;
  used: number;
  readonly holders: Map<string, Holder>;
  /** Map iteration order is insertion order: the FIFO queue. Refreshing keeps the place. */
  readonly queue: Map<string, QueuedWaiter>;
  timer: Timer | null;
}

/**
 * The in-process backend's state: the same algorithm as the Redis scripts (see backend.ts),
 * in synchronous JavaScript, so each operation is atomic within one event-loop turn. Several
 * clients share one store via `connect({ memory: store })`. Expiry runs on the store's clock
 * (a `FakeClock` in tests), and fires exactly at the TTL, so waiters take over at once.
 */
export class MemoryStore {
  readonly clock: Clock;
  readonly #names = new Map<string, NameState>();
  readonly #clients = new Map<string, WakeListener>();
  #lastFence = 0n;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? realClock;
  }

  /** @internal */
  attach(clientId: string, onWake: WakeListener): void {
    this.#clients.set(clientId, onWake);
  }

  /** @internal */
  detach(clientId: string): void {
    this.#clients.delete(clientId);
  }

  /** @internal */
  acquire(clientId: string, req: AcquireRequest): AcquireResult {
    const state = this.#state(req.name, req.kind, req.limit);
    const now = this.clock.now();
    this.#purge(state, now);
    this.#drain(state, now, req.token);
    const held = state.holders.get(req.token);
    if (held) {
      held.expiresAt = now + req.ttl;
      return this.#settle(req.name, state, { granted: true, fence: held.fence });
    }
    const head = state.queue.keys().next().value;
    const first = head === undefined || head === req.token;
    if (first && state.used + req.permits <= req.limit) {
      state.queue.delete(req.token);
      const fence = this.#grant(state, req.token, req.permits, req.owner, now + req.ttl);
      this.#drain(state, now, null);
      return this.#settle(req.name, state, { granted: true, fence });
    }
    if (!req.enqueue) return this.#settle(req.name, state, { granted: false, position: -1, retryAfter: null });
    const expiresAt = now + req.waiterTtl;
    const queued = state.queue.get(req.token);
    if (queued) queued.expiresAt = expiresAt;
    else {
      const { permits, limit, ttl, waiterTtl, owner } = req;
      state.queue.set(req.token, { permits, limit, ttl, waiterTtl, owner, clientId, expiresAt });
    }
    const position = [...state.queue.keys()].indexOf(req.token);
    const retryAfter = position === 0 ? this.#earliestHolderExpiry(state) - now : null;
    return this.#settle(req.name, state, { granted: false, position, retryAfter });
  }

  /** @internal */
  release(name: string, token: string): boolean {
    const state = this.#names.get(name);
    if (!state) return false;
    const now = this.clock.now();
    this.#purge(state, now);
    const holder = state.holders.get(token);
    if (holder) {
      state.holders.delete(token);
      state.used -= holder.permits;
    } else {
      state.queue.delete(token);
    }
    this.#drain(state, now, null);
    this.#settle(name, state, null);
    return holder !== undefined;
  }

  /** @internal */
  extend(name: string, token: string, ttl: number): boolean {
    const state = this.#names.get(name);
    if (!state) return false;
    const now = this.clock.now();
    this.#purge(state, now);
    this.#drain(state, now, null);
    const holder = state.holders.get(token);
    if (holder) holder.expiresAt = now + ttl;
    this.#settle(name, state, null);
    return holder !== undefined;
  }

  /** @internal */
  forceRelease(name: string): number {
    const state = this.#names.get(name);
    if (!state) return 0;
    const now = this.clock.now();
    this.#purge(state, now);
    const count = state.holders.size;
    state.holders.clear();
    state.used = 0;
    this.#drain(state, now, null);
    this.#settle(name, state, null);
    return count;
  }

  /** @internal */
  inspect(name: string): LockState | null {
    const state = this.#names.get(name);
    if (!state) return null;
    const now = this.clock.now();
    this.#purge(state, now);
    this.#drain(state, now, null);
    this.#settle(name, state, null);
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

  /** @internal */
  list(pattern: string): string[] {
    const matcher = globToRegExp(pattern);
    return [...this.#names.keys()].filter((name) => matcher.test(name)).sort();
  }

  #state(name: string, kind: LockKind, limit: number): NameState {
    let state = this.#names.get(name);
    if (!state) {
      state = { kind, limit, used: 0, holders: new Map(), queue: new Map(), timer: null };
      this.#names.set(name, state);
    }
    state.kind = kind;
    state.limit = limit;
    return state;
  }

  #grant(state: NameState, token: string, permits: number, owner: string, expiresAt: number): bigint {
    const micros = BigInt(this.clock.wallMicros());
    const fence = this.#lastFence + 1n > micros ? this.#lastFence + 1n : micros;
    this.#lastFence = fence;
    state.holders.set(token, { permits, fence, owner, expiresAt });
    state.used += permits;
    return fence;
  }

  #purge(state: NameState, now: number): void {
    for (const [token, holder] of state.holders) {
      if (holder.expiresAt <= now) {
        state.holders.delete(token);
        state.used -= holder.permits;
      }
    }
    for (const [token, waiter] of state.queue) {
      if (waiter.expiresAt <= now) state.queue.delete(token);
    }
  }

  /**
   * Hands free permits to the head of the queue, in order, and wakes each one granted, except
   * `quietToken`: the caller of the current operation, which learns it from the result.
   */
  #drain(state: NameState, now: number, quietToken: string | null): void {
    for (const [token, waiter] of state.queue) {
      if (state.used + waiter.permits > waiter.limit) return;
      state.queue.delete(token);
      this.#grant(state, token, waiter.permits, waiter.owner, now + Math.min(waiter.ttl, waiter.waiterTtl));
      const wake = this.#clients.get(waiter.clientId);
      // Asynchronous like a pub/sub message: the waker's own operation completes first.
      if (wake && token !== quietToken) queueMicrotask(() => wake(token));
    }
  }

  #earliestHolderExpiry(state: NameState): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const holder of state.holders.values()) earliest = Math.min(earliest, holder.expiresAt);
    return earliest;
  }

  /** Forgets idle names and arms one timer for the name's next expiry, then returns `result`. */
  #settle<T>(name: string, state: NameState, result: T): T {
    state.timer?.cancel();
    state.timer = null;
    if (state.holders.size === 0 && state.queue.size === 0) {
      this.#names.delete(name);
      return result;
    }
    let next = this.#earliestHolderExpiry(state);
    for (const waiter of state.queue.values()) next = Math.min(next, waiter.expiresAt);
    state.timer = this.clock.setTimer(() => this.#expire(name), next - this.clock.now());
    return result;
  }

  #expire(name: string): void {
    const state = this.#names.get(name);
    if (!state) return;
    const now = this.clock.now();
    this.#purge(state, now);
    this.#drain(state, now, null);
    this.#settle(name, state, null);
  }
}

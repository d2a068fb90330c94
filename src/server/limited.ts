/**
 * The server's limits as a wrapper around a namespace's backend, for one caller: names are
 * counted in the caller's ledger, queues are bounded per key and per caller, and tokens a
 * remote client queues itself are forwarded so their wake-ups reach it. Every command that
 * changes state goes through here; the backend itself is the library's, unchanged.
 */
import type { AcquireRequest, AcquireResult, ExtendRequest, RateRequest, RateResult } from '../backend.js';
import { requireCapability, requireRateAlgorithm } from '../capabilities.js';
import { realClock } from '../util/clock.js';
import type { Caller } from './caller.js';
import { CommandError } from './errors.js';

/** Ledger keys: a lock and a rate limiter of the same name are two things in the backend. */
const lockKey = (prefix: string, name: string): string => `L${prefix}${name}`;
const rateKey = (prefix: string, name: string): string => `R${prefix}${name}`;

function tooManyOnKey(): CommandError {
  return new CommandError('LIMIT', 'too many waiters on this key');
}

export class LimitedBackend {
  readonly #caller: Caller;

  constructor(caller: Caller) {
    this.#caller = caller;
  }

  /**
   * Grant now, or queue. `forward`: the caller waits itself (a remote client's ACQUIRE), so
   * the token's wake-ups are routed to its client id; the server's own waits are woken in its
   * waiting loop instead.
   */
  acquire(request: AcquireRequest, forward: boolean): Promise<AcquireResult> {
    const result = this.acquireNow(request, forward);
    return result instanceof Promise ? result : Promise.resolve(result);
  }

  /**
   * acquire, answered within the call when the namespace's backend answers so (the memory
   * backend): the server's hot path then makes no promise at all. (Written with `then`, not
   * `await`, where it must wait.)
   */
  acquireNow(request: AcquireRequest, forward: boolean): AcquireResult | Promise<AcquireResult> {
    const { ledger, namespace } = this.#caller;
    const { token } = request;
    const key = lockKey(namespace.prefix, request.name);
    this.#checkNames(key);
    const joining = request.enqueue && !ledger.isQueued(token);
    if (joining) this.#checkWaiters(token);
    const forwards = forward && request.enqueue;
    const sync = namespace.syncLocks;
    if (sync === null) {
      // Known before the backend can hand the lock off: a wake-up may overtake the reply.
      if (forwards) namespace.forward(token, this.#caller.clientId, request.waiterTtl);
      return namespace.backend.acquire(request).then((result) => this.#acquired(request, key, joining, result));
    }
    let result: AcquireResult;
    try {
      result = sync.acquireNow(request);
    } catch (error) {
      return Promise.reject(error); // the backend's failure is a rejection, as from its async call
    }
    // Nothing ran between the backend's decision and here, and the operation never wakes the
    // token it answers (the store grants its caller quietly, through the result; its inline
    // wake-ups are for other tokens): so the token is forwarded only when it waits, and a grant
    // now (the common case) costs no entry to add and delete.
    if (forwards && !result.granted && result.position >= 0) {
      namespace.forward(token, this.#caller.clientId, request.waiterTtl);
    }
    return this.#acquired(request, key, joining, result);
  }

  /** The ledger and the forwarding after the backend's answer to `request`. */
  #acquired(
    request: AcquireRequest,
    key: string,
    joining: boolean,
    result: AcquireResult,
  ): AcquireResult | Promise<AcquireResult> {
    const { ledger, namespace, ctx } = this.#caller;
    const { token } = request;
    const now = realClock.now();
    // A try by a token that is already queued leaves it queued: its wake-ups still go to its client.
    if (result.granted || (result.position < 0 && !ledger.isQueued(token))) {
      namespace.unforward(token);
      if (result.granted) ledger.note(token, key, false, now + request.ttl);
      return result;
    }
    if (joining && result.position >= ctx.limits.maxWaitersPerKey) {
      // It joined a queue that was already full: undo the join.
      namespace.unforward(token);
      return namespace.backend.release(request.name, token).then(() => Promise.reject(tooManyOnKey()));
    }
    ledger.note(token, key, true, now + request.waiterTtl);
    return result;
  }

  release(name: string, token: string): Promise<boolean> {
    const held = this.releaseNow(name, token);
    return held instanceof Promise ? held : Promise.resolve(held);
  }

  /** release, answered within the call when the backend answers so (see acquireNow). */
  releaseNow(name: string, token: string): boolean | Promise<boolean> {
    const { ledger, namespace } = this.#caller;
    const sync = namespace.syncLocks;
    if (sync === null) {
      ledger.drop(token);
      namespace.unforward(token);
      return namespace.backend.release(name, token);
    }
    let held: boolean | Promise<boolean>;
    try {
      held = sync.releaseNow(name, token);
    } catch (error) {
      held = Promise.reject(error); // as from the backend's async call
    }
    // The token's own entries go after the release, which pushes a hand-off to the next waiter
    // from inside (so that push goes out that much sooner). Nothing runs in between, and the
    // release never wakes the token it releases, so nothing can read them meanwhile.
    ledger.drop(token);
    namespace.unforward(token);
    return held;
  }

  async extend(name: string, token: string, ttl: number): Promise<boolean> {
    const [held] = await this.extendMany([{ name, token, ttl }]);
    return held === true;
  }

  async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
    const { namespace, ledger } = this.#caller;
    const held =
      requests.length === 1 && requests[0] !== undefined
        ? [await namespace.backend.extend(requests[0])]
        : await namespace.backend.extendMany(requests);
    const now = realClock.now();
    requests.forEach((r, i) => {
      if (held[i]) ledger.note(r.token, lockKey(namespace.prefix, r.name), false, now + r.ttl);
      // an extend by a queued token fails but leaves it queued (and its wake-ups routed)
      else if (!ledger.isQueued(r.token)) ledger.drop(r.token);
    });
    return held;
  }

  /** One decision, or (with a token) a turn in the limiter's queue; `forward` as for acquire. */
  async rateTake(request: RateRequest, forward: boolean): Promise<RateResult> {
    const { ledger, namespace, ctx } = this.#caller;
    const { token } = request;
    const key = rateKey(namespace.prefix, request.name);
    this.#checkNames(key);
    if (token !== null) this.#checkWaiters(token);
    if (token !== null && forward) namespace.forward(token, this.#caller.clientId, request.waiterTtl);
    const rates = requireRateAlgorithm(namespace.backend, request.algorithm, `rate limiter "${request.name}"`);
    const result = await rates.take(request);
    const now = realClock.now();
    if (token !== null && result.position >= ctx.limits.maxWaitersPerKey) {
      // The limiter tells a queue's length only by this answer: undo the join at once.
      await this.rateLeave(request.name, token);
      throw tooManyOnKey();
    }
    ledger.touchRate(key, now + Math.max(request.window, result.resetIn));
    if (token === null) return result;
    if (result.position >= 0) {
      ledger.note(token, key, true, now + request.waiterTtl);
    } else {
      ledger.drop(token);
      namespace.unforward(token);
    }
    return result;
  }

  rateLeave(name: string, token: string): Promise<void> {
    const rates = requireCapability(this.#caller.namespace.backend, 'rates', `rate limiter "${name}"`);
    this.#caller.ledger.drop(token);
    this.#caller.namespace.unforward(token);
    return rates.leave(name, token);
  }

  /** The value under `key` (the backend's value store, for `cached()`), or undefined. */
  vget(key: string): Promise<string | undefined> {
    return requireCapability(this.#caller.namespace.backend, 'values', `value "${key}"`).get(key);
  }

  /** Stores `value` under `key` for `ttl` ms, within the server's value limits. */
  vset(key: string, value: string, ttl: number): Promise<void> {
    const { namespace, ctx } = this.#caller;
    const values = requireCapability(namespace.backend, 'values', `value "${key}"`);
    const { maxValueBytes, maxValues } = ctx.limits;
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > maxValueBytes) {
      throw new CommandError('LIMIT', `the value is ${bytes} bytes; this server keeps at most ${maxValueBytes}`);
    }
    if (!ctx.values.admit(`${namespace.prefix}\u0000${key}`, ttl, maxValues)) {
      throw new CommandError('LIMIT', `this server already keeps ${maxValues} values`);
    }
    return values.set(key, value, ttl);
  }

  #checkNames(key: string): void {
    const max = this.#caller.ctx.limits.maxNamesPerClient;
    if (this.#caller.ledger.tooManyNames(key, max, realClock.now)) {
      throw new CommandError('LIMIT', `this connection already uses ${max} names`);
    }
  }

  #checkWaiters(token: string): void {
    const max = this.#caller.ctx.limits.maxWaitersPerConnection;
    if (this.#caller.ledger.tooManyWaiters(token, max, realClock.now)) {
      throw new CommandError('LIMIT', `this connection already has ${max} waiters`);
    }
  }
}

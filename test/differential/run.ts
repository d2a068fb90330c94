/**
 * Runs one scenario on two engines side by side and fails at the first reply that differs.
 * After every operation both engines are also asked for the state of every lock name and the
 * list of live names, so a difference in state shows up at the step that caused it, not later.
 *
 * What is compared as is: grants, positions, retryAfter, expiresIn, permits, owners, rate
 * results (times are whole ms on one driven clock, so they must agree exactly), error codes.
 * What is normalised: a fence becomes the ms (since the start) of the clock it was minted on,
 * since fences are max(last + 1, wall µs) and memory counts `last` per store where Redis counts it
 * per name; on top, each engine's fences must be new and strictly increasing per name.
 * serverTime becomes ms since the start, each engine having its own origin.
 */
import assert from 'node:assert/strict';
import type { AcquireResult, Backend, HandoffGrant, LockState, RateResult } from '../../src/backend.js';
import { waitFor } from '../helpers/wait.js';
import { type Engine, WALL_ORIGIN } from './engines.js';
import { events, FenceLog, instant, type Normal, outcome, rates, simultaneousSorted } from './normal.js';
import { CLIENTS, describeOp, type LimiterConfig, LOCKS, type Op, ownerOf, permitsOf } from './ops.js';

/** A rate decision as the engines must agree on it exactly: whole ms, without the exact wait. */
function wholeMsOf(result: Normal): Normal {
  if (!isRateResult(result)) return result;
  const { exactRetryAfter: _exact, serverTime: _time, ...whole } = result;
  return whole;
}

function isRateResult(value: Normal): value is RateResult {
  return typeof value === 'object' && value !== null && 'remaining' in value && 'resetIn' in value;
}

/** How long Redis's wake-ups (pub/sub) may take to arrive after the last operation, in real ms. */
const DELIVERY_TIMEOUT = 5000;

interface Side {
  readonly engine: Engine;
  readonly fences: FenceLog;
}

export class DifferentialRun {
  /** The first engine is the reference; every other one must agree with it. */
  readonly #sides: readonly Side[];
  readonly #tag: string;
  readonly #limiters: readonly LimiterConfig[];
  #now = 0;
  #ops: readonly Op[] = [];
  /** The clock (T) at which each step so far started. */
  readonly #startedAt: number[] = [];

  constructor(engines: readonly Engine[], tag: string, limiters: readonly LimiterConfig[]) {
    if (engines.length < 2) throw new Error('a differential run needs two engines or more');
    this.#sides = engines.map((engine) => ({ engine, fences: new FenceLog() }));
    this.#tag = tag;
    this.#limiters = limiters;
  }

  /** `watched`: with a watcher on the names, whose events every engine must agree on too. */
  async run(ops: readonly Op[], watched = true): Promise<void> {
    this.#ops = ops;
    const watches = watched ? await Promise.all(this.#sides.map((side) => this.#watch(side))) : [];
    try {
      for (const [step, op] of ops.entries()) {
        await this.#step(step, op);
        await this.#compareState(step);
        for (const side of this.#sides) side.fences.endStep(side.engine.label, step);
      }
      await this.#compareDeliveries();
      if (watched) await this.#compareEvents(watches);
    } finally {
      await Promise.all(watches.map((watch) => watch.stop()));
    }
  }

  /**
   * The lock events of this sequence's names, normalised. Rate-limiter events are left out:
   * memory reports a rate waiter's expiry when it happens (a timer), Redis at the limiter's next
   * take, by design (nothing sweeps rate limiters).
   */
  async #watch(side: Side): Promise<{ readonly seen: string[]; stop(): Promise<void> }> {
    const seen: string[] = [];
    const origin = Number(WALL_ORIGIN / 1000n);
    const stop = await events(side.engine.backends[2] as Backend).watch(`${this.#tag}:n*`, (e) => {
      const fence = e.fence === null ? '-' : `@${instant(e.fence)}`;
      const owner = JSON.stringify(e.owner);
      seen.push(
        `${e.type} ${e.name} ${e.kind} fence${fence} p=${e.permits} o=${owner} T=${e.at - origin} e=${e.expiresIn}`,
      );
    });
    return { seen, stop };
  }

  /** Every engine reported the same lock events in the same order (pub/sub may lag: waits). */
  async #compareEvents(watches: ReadonlyArray<{ readonly seen: string[] }>): Promise<void> {
    await caughtUp(
      watches.map((watch) => () => watch.seen.length),
      'events',
    );
    this.#agree(
      'events',
      watches.map((watch) => simultaneousSorted(watch.seen)),
    );
  }

  /** Asserts every engine's `results[i]` equals the reference's, naming the first that differs. */
  #agree(what: string, results: readonly Normal[]): void {
    const [reference, ...others] = this.#sides;
    for (const [i, side] of others.entries()) {
      assert.deepEqual(
        results[i + 1],
        results[0],
        `${what}: ${side.engine.label} (actual) and ${reference?.engine.label} (expected) differ\n${this.#history()}`,
      );
    }
  }

  /**
   * The exact waits of a rate decision (`exactRetryAfter`, whole µs): given by every engine or
   * by none (a waiter behind others), equal within 2 µs (a token bucket's `tat` is kept to
   * 0.001 ms in Redis, to the double in memory), and each the same whole ms as its own rounded
   * `retryAfter`.
   */
  #agreeExact(what: string, results: readonly Normal[]): void {
    const given = results.map((result) => isRateResult(result) && result.exactRetryAfter !== undefined);
    assert.ok(
      given.every((g) => g === given[0]),
      `${what}: exactRetryAfter given by ${given.map((g, i) => `${this.#sides[i]?.engine.label}: ${g}`).join(', ')}\n${this.#history()}`,
    );
    let reference: { label: string; exact: number } | null = null;
    for (const [i, result] of results.entries()) {
      if (!isRateResult(result) || result.exactRetryAfter === undefined) continue;
      const label = this.#sides[i]?.engine.label ?? '?';
      const exact = result.exactRetryAfter;
      // rate-take.lua: a refusal rounds up to whole ms, a try to at least 1
      const whole = exact <= 0 ? 0 : Math.max(1, Math.ceil(exact));
      const expected = result.allowed ? 0 : result.position === -1 ? Math.max(1, whole) : whole;
      assert.ok(
        result.serverTime !== undefined && result.retryAfter === expected && (!result.allowed || exact === 0),
        `${what}: ${label}: exactRetryAfter ${exact} against retryAfter ${result.retryAfter}\n${this.#history()}`,
      );
      if (reference === null) reference = { label, exact };
      else {
        assert.ok(
          Math.abs(exact - reference.exact) <= 0.002,
          `${what}: exactRetryAfter ${exact} on ${label}, ${reference.exact} on ${reference.label}\n${this.#history()}`,
        );
      }
    }
  }

  #name(index: number): string {
    return `${this.#tag}:n${index}`;
  }

  /**
   * A token of a lock (`n0`) or a rate limiter (`r1`). Tokens are 128 random bits in real use, so
   * one never serves two names: token k of n0 and token k of r1 are different tokens.
   */
  #token(resource: string, index: number): string {
    return `${this.#tag}:${resource}:t${index}`;
  }

  /** Runs `call` on every engine and asserts the normalised outcomes are equal. */
  async #both(what: string, call: (side: Side) => Promise<Normal>): Promise<void> {
    this.#agree(what, await Promise.all(this.#sides.map((side) => outcome(() => call(side)))));
  }

  /** The sequence up to the current step, one op a line, with the clock (T) each ran at. */
  #history(): string {
    return this.#startedAt.map((t, i) => `  ${i}: T=${t} ${describeOp(this.#ops[i] as Op)}`).join('\n');
  }

  async #step(step: number, op: Op): Promise<void> {
    this.#startedAt.push(this.#now);
    const what = `step ${step} (${describeOp(op)}, T=${this.#now})`;
    const client = (side: Side, token: number): Backend => side.engine.backends[token % CLIENTS] as Backend;
    switch (op.op) {
      case 'acquire': {
        const lock = LOCKS[op.name] ?? LOCKS[0];
        const request = {
          name: this.#name(op.name),
          kind: lock.kind,
          token: this.#token(`n${op.name}`, op.token),
          permits: permitsOf(op.name, op.token),
          limit: lock.limit,
          ttl: op.ttl,
          enqueue: op.enqueue,
          waiterTtl: op.waiterTtl,
          // the claim window, as the client computes it
          claimTtl: Math.min(op.ttl, op.waiterTtl),
          owner: ownerOf(op.token),
        };
        return this.#both(what, async (side) =>
          this.#acquired(side, request.name, await client(side, op.token).acquire(request)),
        );
      }
      case 'release':
        return this.#both(what, (side) =>
          client(side, op.token).release(this.#name(op.name), this.#token(`n${op.name}`, op.token)),
        );
      case 'extend':
        return this.#both(what, (side) =>
          client(side, op.token).extend({
            name: this.#name(op.name),
            token: this.#token(`n${op.name}`, op.token),
            ttl: op.ttl,
          }),
        );
      case 'extendMany': {
        const requests = op.items.map((i) => ({
          name: this.#name(i.name),
          token: this.#token(`n${i.name}`, i.token),
          ttl: i.ttl,
        }));
        return this.#both(what, (side) => client(side, op.items[0]?.token ?? 0).extendMany(requests));
      }
      case 'forceRelease':
        return this.#both(what, (side) => client(side, 0).forceRelease(this.#name(op.name)));
      case 'advance':
        return this.#advance(step, op.ms);
      case 'rateTake': {
        const config = this.#limiters[op.limiter] as LimiterConfig;
        const burst = config.algorithm === 'token-bucket' ? config.burst : config.limit;
        const request = {
          name: `${this.#tag}:r${op.limiter}`,
          algorithm: config.algorithm,
          limit: config.limit,
          window: config.window,
          burst,
          // more than the capacity is refused upstream (RateLimiter), never sent
          cost: Math.min(op.cost, burst),
          token: op.token === null ? null : this.#token(`r${op.limiter}`, op.token),
          waiterTtl: op.waiterTtl,
        };
        const results = await Promise.all(
          this.#sides.map((side) => outcome(() => rates(client(side, op.token ?? 0)).take(request))),
        );
        this.#agree(what, results.map(wholeMsOf));
        this.#agreeExact(what, results);
        return;
      }
      case 'rateLeave':
        return this.#both(what, (side) =>
          rates(client(side, op.token)).leave(`${this.#tag}:r${op.limiter}`, this.#token(`r${op.limiter}`, op.token)),
        );
    }
  }

  /**
   * Lets `ms` pass the way a busy deployment sees it: every expiry on the way is swept at its
   * instant (memory's timers do that; Redis purges lazily, so the test sweeps for it), and the
   * sweeps' answers (ms to the next expiry) are compared too.
   */
  async #advance(step: number, ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      let next: number | null = null;
      for (const index of LOCKS.keys()) {
        const name = this.#name(index);
        const results: Array<number | null> = [];
        await this.#both(`step ${step} advance: sweep of ${name} at T=${this.#now}`, async (side) => {
          const result = await events(side.engine.backends[0] as Backend).sweep(name);
          results.push(result);
          return result;
        });
        const until = results[0];
        if (until !== null && until !== undefined) next = Math.min(next ?? until, until);
      }
      if (next === null || this.#now + Math.max(1, next) > target) break;
      await this.#setTime(this.#now + Math.max(1, next));
    }
    await this.#setTime(target);
  }

  async #setTime(t: number): Promise<void> {
    this.#now = t;
    await Promise.all(this.#sides.map((side) => side.engine.setTime(t)));
  }

  #acquired(side: Side, name: string, result: AcquireResult): Normal {
    if (result.granted) {
      side.fences.note(name, result.fence);
      return { granted: true, fenceAt: instant(result.fence) };
    }
    const serverTime = result.serverTime === null ? null : side.engine.sinceStart(result.serverTime);
    return { granted: false, position: result.position, retryAfter: result.retryAfter, serverTime };
  }

  #state(side: Side, state: LockState | null): Normal {
    if (state === null) return null;
    const holders = [...state.holders].sort((x, y) => (x.fence < y.fence ? -1 : x.fence > y.fence ? 1 : 0));
    for (const holder of holders) side.fences.note(state.name, holder.fence);
    return {
      ...state,
      holders: holders.map(({ fence, ...h }) => ({ fenceAt: instant(fence), ...h })),
    };
  }

  async #compareState(step: number): Promise<void> {
    for (const index of LOCKS.keys()) {
      const name = this.#name(index);
      await this.#both(`after step ${step}: inspect ${name}`, async (side) =>
        this.#state(side, await (side.engine.backends[1] as Backend).inspect(name)),
      );
    }
    await this.#both(`after step ${step}: list`, (side) => (side.engine.backends[2] as Backend).list(`${this.#tag}:*`));
  }

  /** The hand-off grants each engine delivered (pub/sub may lag: waits for the counts to match). */
  async #compareDeliveries(): Promise<void> {
    await caughtUp(
      this.#sides.map((side) => () => side.engine.delivered.length),
      'hand-off grants delivered',
    );
    this.#agree(
      'hand-off grants delivered',
      this.#sides.map((side) =>
        side.engine.delivered.map(({ token, grant }) => this.#grant(side, token, grant)).sort(),
      ),
    );
  }

  #grant(side: Side, token: string, grant: HandoffGrant): string {
    const at = side.engine.sinceStart(grant.serverTime);
    return `${token} fence@${instant(grant.fence)} T=${at}`;
  }
}

/**
 * Waits until every count reaches the largest (deliveries over pub/sub may lag), or gives up
 * after DELIVERY_TIMEOUT: the comparison that follows then shows what differs.
 */
async function caughtUp(counts: ReadonlyArray<() => number>, what: string): Promise<void> {
  const expected = Math.max(...counts.map((count) => count()));
  await waitFor(() => counts.every((count) => count() >= expected), {
    timeout: DELIVERY_TIMEOUT,
    what: `${expected} ${what} from every engine`,
  }).catch(() => {});
}

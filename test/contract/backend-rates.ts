/** The rates capability: each declared algorithm's limit, and the FIFO queue of rate waiters. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Backend, RateAlgorithm, RateRequest, RateResult } from '../../src/backend.js';
import {
  type BackendEngineFactory,
  type EngineHandle,
  LONG,
  newName,
  newToken,
  type OpenedBackend,
  PAST_SHORT,
  rates,
  SHORT,
  useEngine,
} from './backend-support.js';

/**
 * Two backends when the engine declares rate limiting (with `algorithm`, when given); else the
 * test is skipped: an undeclared capability is checked by the capabilities suite.
 */
async function rateClients(
  world: EngineHandle,
  t: { skip(message: string): void },
  algorithm: RateAlgorithm = 'sliding-window',
): Promise<[OpenedBackend, OpenedBackend] | null> {
  const pair = await world.openMany(2);
  const declared = pair[0].backend.capabilities.rateAlgorithms;
  if (declared.includes(algorithm)) return pair;
  t.skip(`the ${pair[0].backend.label} backend declares no ${algorithm} rate limiter`);
  return null;
}

function rate(name: string, over: Partial<RateRequest> = {}): RateRequest {
  return {
    name,
    algorithm: 'sliding-window',
    limit: 3,
    window: LONG,
    burst: 3,
    cost: 1,
    token: null,
    waiterTtl: 6000,
    ...over,
  };
}

async function takes(backend: Backend, request: RateRequest, count: number): Promise<RateResult[]> {
  const results: RateResult[] = [];
  for (let i = 0; i < count; i++) results.push(await rates(backend).take(request));
  return results;
}

export function ratesSuite(factory: BackendEngineFactory): void {
  const world = useEngine(factory);

  const limits: Array<[RateAlgorithm, Partial<RateRequest>, number]> = [
    ['sliding-window', { limit: 3 }, 3],
    ['fixed-window', { limit: 3 }, 3],
    // a burst of 4 at a rate of 2 per window
    ['token-bucket', { limit: 2, burst: 4 }, 4],
  ];
  for (const [algorithm, params, admitted] of limits) {
    it(`${algorithm}: admits ${admitted} in a burst across clients, then refuses with a retryAfter`, async (t) => {
      const pair = await rateClients(world(), t, algorithm);
      if (pair === null) return;
      const [a, b] = pair;
      const name = newName('rate');
      const request = rate(name, { algorithm, ...params });
      const results = [...(await takes(a.backend, request, admitted - 1)), ...(await takes(b.backend, request, 1))];
      assert.deepEqual(
        results.map((r) => [r.allowed, r.remaining, r.retryAfter, r.position]),
        results.map((_, i) => [true, admitted - 1 - i, 0, -1]),
      );
      const refused = await rates(a.backend).take(request);
      assert.equal(refused.allowed, false);
      assert.equal(refused.remaining, 0);
      assert.equal(refused.position, -1);
      assert.ok(refused.retryAfter > 0 && refused.retryAfter <= LONG, `retryAfter ${refused.retryAfter}`);
      assert.ok(refused.resetIn > 0 && refused.resetIn <= 2 * LONG, `resetIn ${refused.resetIn}`);
      assert.ok(Number.isInteger(refused.at) && refused.at > 1.6e12, 'at is wall-clock ms');
    });
  }

  it('waiters queue FIFO: only the head is told when it fits; a leaving head passes the turn', async (t) => {
    const pair = await rateClients(world(), t);
    if (pair === null) return;
    const [a, b] = pair;
    const name = newName('rate');
    const request = rate(name, { limit: 1 });
    assert.equal((await rates(a.backend).take(request)).allowed, true);
    const [first, second] = [newToken(), newToken()];
    const head = await rates(a.backend).take({ ...request, token: first });
    const next = await rates(b.backend).take({ ...request, token: second });
    assert.deepEqual([head.allowed, head.position, next.allowed, next.position], [false, 0, false, 1]);
    assert.ok(head.retryAfter > 0);
    assert.equal(next.retryAfter, -1);
    await rates(a.backend).leave(name, first);
    const promoted = await rates(b.backend).take({ ...request, token: second });
    assert.deepEqual([promoted.allowed, promoted.position], [false, 0]);
  });

  it('a waiter that asks again with another cost is counted at its latest cost, in its place', async (t) => {
    const pair = await rateClients(world(), t, 'token-bucket');
    if (pair === null) return;
    const [a, b] = pair;
    const name = newName('rate');
    // one token per LONG, bursts of 2: the two tries empty the bucket
    const request = rate(name, { algorithm: 'token-bucket', limit: 1, burst: 2 });
    assert.deepEqual(
      (await takes(a.backend, request, 2)).map((r) => r.allowed),
      [true, true],
    );
    const waiter = newToken();
    const asked = await rates(b.backend).take({ ...request, token: waiter, cost: 2 });
    assert.deepEqual([asked.allowed, asked.position], [false, 0]);
    const askedAgain = await rates(b.backend).take({ ...request, token: waiter, cost: 1 });
    assert.deepEqual([askedAgain.allowed, askedAgain.position], [false, 0]);
    // The head now needs 1 token (in LONG), then the try 1 more: 2 * LONG, not 3 * LONG as
    // when the queue still counted the first cost (memory did, Redis did not).
    const tried = await rates(a.backend).take(request);
    assert.equal(tried.allowed, false);
    assert.ok(tried.retryAfter > LONG && tried.retryAfter <= 2 * LONG, `retryAfter ${tried.retryAfter}`);
  });

  it('a try is refused while someone waits, even when it would fit; the waiter goes first', async (t) => {
    const pair = await rateClients(world(), t);
    if (pair === null) return;
    const [a, b] = pair;
    const name = newName('rate');
    const request = rate(name, { limit: 1, window: SHORT });
    assert.equal((await rates(a.backend).take(request)).allowed, true);
    const waiter = newToken();
    const queued = await rates(b.backend).take({ ...request, token: waiter, waiterTtl: 10_000 });
    assert.equal(queued.position, 0);
    await world().engine.advance(PAST_SHORT);
    assert.equal((await rates(a.backend).take(request)).allowed, false, 'the try waits behind the queue');
    assert.equal((await rates(b.backend).take({ ...request, token: waiter, waiterTtl: 10_000 })).allowed, true);
  });
}

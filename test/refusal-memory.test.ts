/**
 * A refused tryTake is remembered until its retryAfter: tries for as much within it are answered
 * without a round trip, and never admitted (so the memory cannot over-admit).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { internalsOf } from '../src/backends/memory/internals.js';
import { connect, MemoryStore } from '../src/index.js';
import { FakeClock } from '../src/testing/index.js';

async function setup(localRefusals?: boolean) {
  const clock = new FakeClock();
  const store = new MemoryStore({ clock });
  let roundTrips = 0;
  const { rates } = internalsOf(store);
  const take = rates.take.bind(rates);
  rates.take = (clientId, request) => {
    roundTrips++;
    return take(clientId, request);
  };
  const hf = await connect({ memory: store });
  const options = { limit: 2, window: 1000, ...(localRefusals === undefined ? {} : { localRefusals }) };
  return { clock, hf, limiter: hf.rateLimiter('api', options), trips: () => roundTrips };
}

it('answers tries locally until the refusal runs out, then asks again', async () => {
  const { clock, hf, limiter, trips } = await setup();
  await limiter.tryTake();
  await limiter.tryTake();
  const refused = await limiter.tryTake();
  assert.equal(refused.allowed, false);
  assert.equal(refused.retryAfter, 1000);
  assert.equal(trips(), 3);
  await clock.advance(400);
  const local = await limiter.tryTake();
  assert.equal(local.allowed, false);
  assert.equal(local.retryAfter, 600, 'the remembered refusal counts down');
  assert.equal(trips(), 3, 'no round trip while the refusal stands');
  await clock.advance(600);
  assert.equal((await limiter.tryTake()).allowed, true);
  assert.equal(trips(), 4);
  await hf.close();
});

it('asks the backend for a smaller cost than the one refused', async () => {
  const { hf, limiter, trips } = await setup();
  await limiter.tryTake();
  assert.equal((await limiter.tryTake(2)).allowed, false);
  assert.equal(trips(), 2);
  assert.equal((await limiter.tryTake(1)).allowed, true, 'one still fits');
  assert.equal(trips(), 3);
  await hf.close();
});

it('with localRefusals: false every try is a round trip', async () => {
  const { hf, limiter, trips } = await setup(false);
  for (let i = 0; i < 5; i++) await limiter.tryTake();
  assert.equal(trips(), 5);
  await hf.close();
});

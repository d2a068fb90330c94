/**
 * The contact-center example (seeds 000/001, part of `npm run demo`) runs here on both backends,
 * so it cannot rot; test/examples-recipes.test.ts does the same for the recipe examples.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { contactCenter } from '../examples/contact-center.js';
import { busiestWindow, partnerApi } from '../examples/partner-api.js';
import { connect, type Holdfast, MemoryStore } from '../src/index.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';

type Connect = () => Promise<Holdfast[]>;

function scenarios(clients: Connect): void {
  const run = async <T>(fn: (hfs: Holdfast[]) => Promise<T>): Promise<T> => {
    const hfs = await clients();
    try {
      return await fn(hfs);
    } finally {
      await Promise.all(hfs.map((hf) => hf.close()));
    }
  };

  it('contact center: every task handled, no agent over capacity, away agent skipped', async () => {
    const summary = await run(([hf]) => contactCenter(hf as Holdfast));
    assert.equal(summary.handled, 24);
    assert.equal(summary.maxConcurrentPerAgent.cleo, undefined);
    assert.ok((summary.maxConcurrentPerAgent.anna ?? 0) <= 3);
    assert.ok((summary.maxConcurrentPerAgent.bart ?? 0) <= 2);
    assert.equal(summary.ok, true);
  });

  it('partner API: 3 servers never exceed 5 calls per 800 ms, and every call waited instead of failing', async () => {
    const summary = await run((hfs) => partnerApi(hfs));
    assert.equal(summary.failed, 0);
    assert.ok(summary.maxInAnyWindow <= 5, `max ${summary.maxInAnyWindow} in a window`);
    assert.equal(summary.maxInAnyWindow, 5, 'the limit was used, not just respected');
  });
}

it('busiestWindow counts half-open windows', () => {
  assert.equal(busiestWindow([0, 100, 799, 800, 1599], 800), 3);
  assert.equal(busiestWindow([], 800), 0);
});

describe('examples on memory', () => {
  scenarios(async () => {
    const store = new MemoryStore();
    return Promise.all([1, 2, 3].map(() => connect({ memory: store })));
  });
});

describe('examples on redis', () => {
  let redis: RedisProcess;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });
  let run = 0;
  scenarios(async () => {
    const prefix = `examples-${++run}:`;
    return Promise.all([1, 2, 3].map(() => connect(redis.url, { prefix })));
  });
});

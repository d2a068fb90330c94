/**
 * The seed scenarios under examples/ (what `npm run demo` shows) run here on both backends, so
 * they cannot rot.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { contactCenter } from '../examples/contact-center.js';
import { cronExclusive } from '../examples/cron-exclusive.js';
import { dogpile } from '../examples/dogpile.js';
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

  it('dog-pile: 20 concurrent misses compute once', async () => {
    const summary = await run((hfs) => dogpile(hfs));
    assert.equal(summary.computations, 1);
    assert.equal(summary.allGotValue, true);
  });

  it('cron: exactly one of three instances runs each tick', async () => {
    const summary = await run((hfs) => cronExclusive(hfs));
    assert.deepEqual(summary.runsPerTick, [1, 1, 1, 1, 1]);
    assert.equal(summary.skips, 10);
  });
}

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

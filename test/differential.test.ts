/**
 * The differential test (issue 8): the lock and rate algorithm is written twice, in TypeScript
 * (memory://, and the server over it) and in Lua (Redis). fast-check generates random sequences
 * of operations from several clients (acquire / enqueue, release, extend, extendMany, expiry,
 * waiter timeout, force-release, rate takes and leaves), runs each on memory://, on Redis and on
 * holdfast:// (an in-process server in front of a memory store, clients over TCP: its transport)
 * with time made deterministic (the FakeClock of both memory stores and the scripts' test clock
 * show the same instants), and compares every reply, the state after every step, the hand-off
 * grants delivered and the lock events with memory's. A failure prints the shrunk sequence and
 * the seed; replay it with
 * `HOLDFAST_DIFF_SEED=<seed> npm test -- test/differential.test.ts`.
 *
 * HOLDFAST_DIFF_RUNS sets how many sequences (default 150, a few seconds).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { createRedisBackend } from '../src/backends/redis/index.js';
import { nameKeys } from '../src/backends/redis/keys.js';
import { loadScripts, runScript } from '../src/backends/redis/scripts.js';
import { ValidationError } from '../src/errors.js';
import { holdfastEngine, memoryEngine, type RedisEngine, redisEngine } from './differential/engines.js';
import { scenario } from './differential/ops.js';
import { DifferentialRun } from './differential/run.js';
import { useRedisServer } from './helpers/world.js';

const RUNS = Number(process.env.HOLDFAST_DIFF_RUNS ?? 150);
const SEED = process.env.HOLDFAST_DIFF_SEED === undefined ? undefined : Number(process.env.HOLDFAST_DIFF_SEED);

describe('differential: memory://, Redis and holdfast:// agree on every reply', () => {
  const server = useRedisServer();
  let redis: RedisEngine | undefined;
  before(async () => {
    redis = await redisEngine(server().url, `diff-${randomBytes(4).toString('hex')}:`);
  });
  after(async () => {
    await redis?.close();
  });

  it(`${RUNS} random sequences from 3 clients, on one driven clock`, async () => {
    let sequence = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ limiters, ops, watched }) => {
        const engine = redis as RedisEngine;
        // Each sequence has names and tokens of its own on the shared Redis.
        const tag = `s${sequence++}`;
        await engine.reset(tag);
        const memory = memoryEngine();
        const holdfast = await holdfastEngine();
        try {
          await new DifferentialRun([memory, engine, holdfast], tag, limiters).run(ops, watched);
        } finally {
          await Promise.all([memory.close(), holdfast.close()]);
        }
      }),
      { numRuns: RUNS, includeErrorInReport: true, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
  });

  // Found by the random sequences: a try behind a waiter, on a token bucket where it would fit,
  // is refused; memory said its exact wait (none: the bucket had room) as absent, Redis as 0.
  it('a sequence found once: a try that would fit, refused behind a waiter', async () => {
    const engine = redis as RedisEngine;
    const tag = 'found-try-behind-waiter';
    await engine.reset(tag);
    const memory = memoryEngine();
    const holdfast = await holdfastEngine();
    try {
      const limiters = [
        { algorithm: 'sliding-window', limit: 2, window: 500, burst: 0 },
        { algorithm: 'token-bucket', limit: 1, window: 500, burst: 3 },
        { algorithm: 'fixed-window', limit: 2, window: 500, burst: 0 },
      ] as const;
      await new DifferentialRun([memory, engine, holdfast], tag, limiters).run([
        { op: 'rateTake', limiter: 1, cost: 2, token: null, waiterTtl: 300 },
        { op: 'rateTake', limiter: 1, cost: 2, token: 0, waiterTtl: 6000 },
        { op: 'advance', ms: 1000 },
        { op: 'rateTake', limiter: 1, cost: 1, token: null, waiterTtl: 300 },
      ]);
    } finally {
      await Promise.all([memory.close(), holdfast.close()]);
    }
  });

  it("the scripts' test clock is checked: a bad clock is refused, an unknown extra argument fails the script", async () => {
    const context = { clientId: 'clock-check', prefix: 'clock:', onWake: () => {}, onResync: () => {} };
    const url = server().url;
    await assert.rejects(createRedisBackend({ url }, context, { testClock: 5 as never }), ValidationError);
    const fractional = await createRedisBackend({ url }, context, { testClock: () => 1.5 });
    try {
      await assert.rejects(fractional.inspect('n'), ValidationError);
    } finally {
      await fractional.close();
    }
    // A script given one argument more than it takes, that is not `t:<µs>`, refuses to run
    // (scripts/includes/now.lua), so no argument is ever mistaken for a time.
    const scripts = await loadScripts(false);
    const redis = new Redis(url);
    try {
      const keys = nameKeys('clock:', 'n');
      await assert.rejects(
        runScript(redis, scripts.release, { keys, args: ['clock:', 'n', 'token', 'junk'] }),
        /unexpected argument 4/,
      );
      await assert.rejects(runScript(redis, scripts.inspect, { keys, args: ['t:12x'] }), /unexpected argument 1/);
      assert.equal(await runScript(redis, scripts.inspect, { keys, args: ['t:1700000000000000'] }), null);
    } finally {
      await redis.quit();
    }
  });
});

/**
 * The differential test (issue 8): the lock and rate algorithm is written twice, in TypeScript
 * (memory://, and the server over it) and in Lua (Redis). fast-check generates random sequences
 * of operations from several clients (acquire / enqueue, release, extend, extendMany, expiry,
 * waiter timeout, force-release, rate takes and leaves), runs each on both with time made
 * deterministic (the memory backend's FakeClock and the scripts' test clock show the same
 * instants), and compares every reply, the state after every step and the hand-off grants
 * delivered. A failure prints the shrunk sequence and the seed; replay it with
 * `HOLDFAST_DIFF_SEED=<seed> npm test -- test/differential.test.ts`.
 *
 * HOLDFAST_DIFF_RUNS sets how many sequences (default 150, a few seconds).
 */
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { memoryEngine, type RedisEngine, redisEngine } from './differential/engines.js';
import { scenario } from './differential/ops.js';
import { DifferentialRun } from './differential/run.js';
import { useRedisServer } from './helpers/world.js';

const RUNS = Number(process.env.HOLDFAST_DIFF_RUNS ?? 150);
const SEED = process.env.HOLDFAST_DIFF_SEED === undefined ? undefined : Number(process.env.HOLDFAST_DIFF_SEED);

describe('differential: memory:// and Redis agree on every reply', () => {
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
      fc.asyncProperty(scenario, async ({ limiters, ops }) => {
        const engine = redis as RedisEngine;
        // Each sequence has names and tokens of its own on the shared Redis.
        const tag = `s${sequence++}`;
        await engine.reset(tag);
        const memory = memoryEngine();
        try {
          await new DifferentialRun([memory, engine], tag, limiters).run(ops);
        } finally {
          await memory.close();
        }
      }),
      { numRuns: RUNS, includeErrorInReport: true, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
  });
});

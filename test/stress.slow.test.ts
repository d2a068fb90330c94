/**
 * Many processes contend for one lock on a real redis-server; every hold is stamped from one Redis
 * counter all processes share (test/stress/worker.ts) and checked afterwards (test/helpers/checker.ts): no two mutex holders
 * overlap, no update to a non-atomically incremented counter is lost, fences rise with time,
 * and a semaphore never has more holders than permits.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { type CheckOptions, checkHistory, describe, type Hold } from './helpers/checker.js';
import { type Child, type Message, spawnChildren } from './helpers/child.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';
import { withTimeout } from './helpers/wait.js';
import { stressKeys, WORKER } from './stress/shared.js';

const WORKERS = 8;
const ITERATIONS = 250;
const TOTAL = WORKERS * ITERATIONS;
const PERMITS = 3;
/** Starting 8 tsx processes on 2 cores takes a few seconds. */
const START_TIMEOUT = 60_000;
const RUN_TIMEOUT = 120_000;

interface Done extends Message {
  readonly holds: Hold[];
  readonly maxInside: number;
  readonly lost: number;
  readonly releasedFalse: number;
}

let redis: RedisProcess;
let admin: Redis;

before(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});

after(async () => {
  await admin?.quit();
  await redis?.stop();
});

interface Run {
  readonly holds: Hold[];
  readonly done: Done[];
  readonly ms: number;
}

/** Starts the workers, lets them all go at once, and collects their holds. */
async function run(prefix: string, kind: 'mutex' | 'semaphore', log: (line: string) => void): Promise<Run> {
  const args = [redis.url, prefix, kind, 'stress', String(ITERATIONS), String(PERMITS)];
  const children: Child[] = [];
  try {
    children.push(...(await spawnChildren(WORKER, args, WORKERS)));
    assert.equal(children.length, WORKERS, 'every worker process spawned');
    await Promise.all(children.map((child) => child.next('ready', START_TIMEOUT)));
    const started = performance.now();
    for (const child of children) child.send({ type: 'go' });
    const done = await Promise.all(children.map((child) => child.next<Done>('done', RUN_TIMEOUT)));
    const ms = performance.now() - started;
    log(`${kind}: ${TOTAL} acquisitions by ${WORKERS} processes in ${Math.round(ms)} ms`);
    await withTimeout(Promise.all(children.map((child) => child.exited)), 10_000, 'the workers to exit');
    return { holds: done.flatMap((d) => d.holds), done, ms };
  } finally {
    await Promise.all(children.map((child) => child.kill()));
  }
}

function assertClean(holds: readonly Hold[], options: CheckOptions): void {
  const violations = checkHistory(holds, options);
  assert.deepEqual(violations, [], `the history has violations:\n${describe(violations)}`);
}

test(`mutex: ${WORKERS} processes × ${ITERATIONS} acquisitions never overlap`, async (t) => {
  const prefix = 'stress-mutex:';
  const { holds, done } = await run(prefix, 'mutex', (line) => t.diagnostic(line));
  const counter = Number(await admin.get(stressKeys(prefix).counter));
  assert.equal(
    done.reduce((n, d) => n + d.lost, 0),
    0,
    'no lease was lost inside its critical section',
  );
  assert.equal(
    done.reduce((n, d) => n + d.releasedFalse, 0),
    0,
    'every release found its lease still held',
  );
  assertClean(holds, { capacity: 1, orderedFences: true, expected: TOTAL, counter });
  // Not an assertion: how close consecutive holders came, in stamps of the shared counter.
  const byStart = [...holds].sort((a, b) => a.start - b.start);
  const gaps = byStart.slice(1).map((hold, i) => hold.start - (byStart[i] as Hold).end);
  t.diagnostic(`mutex: smallest gap between one holder leaving and the next entering ${Math.min(...gaps)} stamps`);
});

test(`semaphore of ${PERMITS}: ${WORKERS} processes × ${ITERATIONS} acquisitions, never more than ${PERMITS} inside`, async (t) => {
  const prefix = 'stress-semaphore:';
  const { holds, done } = await run(prefix, 'semaphore', (line) => t.diagnostic(line));
  const keys = stressKeys(prefix);
  const maxInside = Math.max(...done.map((d) => d.maxInside));
  assert.ok(maxInside <= PERMITS, `the inside counter reached ${maxInside}`);
  assert.equal(Number(await admin.get(keys.inside)), 0, 'every holder left');
  assert.equal(
    done.reduce((n, d) => n + d.lost, 0),
    0,
    'no lease was lost inside its critical section',
  );
  assert.equal(
    done.reduce((n, d) => n + d.releasedFalse, 0),
    0,
    'every release found its lease still held',
  );
  const counter = Number(await admin.get(keys.done));
  assertClean(holds, { capacity: PERMITS, orderedFences: false, expected: TOTAL, counter });
  // Not an assertion: how busy the semaphore was, so a run that never filled it shows up.
  t.diagnostic(`semaphore: highest inside count seen ${maxInside}`);
});

/**
 * The rate limiter stress runs (sliding window): processes (rate-worker.ts) hammering `tryTake`,
 * and waiting in `take(1)`; no window [t, t + window) admits more than `limit` (checkRate), and
 * waiting processes share the slots fairly. They run where the backend declares a sliding-window
 * limiter, read from the client's capabilities: on any other (etcd declares no rate limiting)
 * they are skipped, and the skip says why.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { Message } from '../helpers/child.js';
import { busiestWindow, checkRate, describeRate } from '../helpers/rate-checker.js';
import type { StressEngine, StressWorld } from './engine.js';
import { runWorkers, sum, TEST_TIMEOUT } from './run-workers.js';
import { RATE_WORKER, wallNow } from './shared.js';

interface RateDone extends Message {
  readonly admitted: number[];
  readonly refused: number;
  readonly badResults: number;
}

const RATE_WORKERS = 4;
const RATE_RUN_MS = 3000;

/** The world to run on, or null (the test skipped) when the backend declares no sliding-window limiter. */
async function rateWorld(engine: StressEngine, t: TestContext): Promise<StressWorld | null> {
  const w = await engine.world(t);
  const declared = (await w.client()).capabilities.rateAlgorithms;
  if (declared.includes('sliding-window')) return w;
  t.skip(`${engine.label} declares no sliding-window rate limiter (rateAlgorithms: [${declared.join(', ')}])`);
  return null;
}

async function runRate(
  w: StressWorld,
  mode: 'try' | 'take',
  limit: number,
  window: number,
): Promise<{ done: RateDone[]; admitted: number[]; ms: number }> {
  const args = [w.url, w.prefix, `stress-rate-${mode}`, mode, String(limit), String(window)];
  const argsList = Array.from({ length: RATE_WORKERS }, () => args);
  const { done, ms } = await runWorkers<RateDone>(w, RATE_WORKER, argsList, () => ({
    type: 'go',
    until: wallNow() + RATE_RUN_MS,
  }));
  for (const d of done) assert.equal(d.badResults, 0, 'every decision is self-consistent');
  return { done, admitted: done.flatMap((d) => d.admitted), ms };
}

function assertWithinLimit(t: TestContext, admitted: readonly number[], limit: number, window: number): void {
  const violations = checkRate(admitted, { limit, window });
  assert.deepEqual(violations, [], `the limiter admitted too many:\n${describeRate(violations)}`);
  t.diagnostic(`rate: busiest ${window} ms window admitted ${busiestWindow(admitted, window)} of ${limit}`);
}

export function rateStress(engine: StressEngine): void {
  test(`rate limiter (sliding window): ${RATE_WORKERS} processes hammer tryTake, never more than the limit per window`, {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const w = await rateWorld(engine, t);
    if (w === null) return;
    const LIMIT = 100;
    const WINDOW = 1000;
    const { done, admitted, ms } = await runRate(w, 'try', LIMIT, WINDOW);
    const refused = sum(done.map((d) => d.refused));
    t.diagnostic(
      `rate: ${admitted.length} admitted, ${refused} refused in ${Math.round(ms)} ms; per process ${done.map((d) => d.admitted.length).join(', ')}`,
    );
    assertWithinLimit(t, admitted, LIMIT, WINDOW);
    // Not just refusing everything: about LIMIT per WINDOW over the run.
    assert.ok(admitted.length >= 250, `only ${admitted.length} admissions in ${RATE_RUN_MS} ms`);
    assert.ok(refused > 0, 'the workers hammered past the limit');
  });

  test(`rate limiter fairness: ${RATE_WORKERS} processes waiting in take(1) share the slots`, {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const w = await rateWorld(engine, t);
    if (w === null) return;
    const LIMIT = 40;
    const WINDOW = 500;
    const { done, admitted, ms } = await runRate(w, 'take', LIMIT, WINDOW);
    const counts = done.map((d) => d.admitted.length);
    t.diagnostic(`rate: take admitted ${admitted.length} in ${Math.round(ms)} ms; per process ${counts.join(', ')}`);
    assertWithinLimit(t, admitted, LIMIT, WINDOW);
    const most = Math.max(...counts);
    const least = Math.min(...counts);
    assert.ok(least >= most / 2, `unfair: one process got ${least} slots, another ${most}`);
    // Waiting is not a way of getting nothing: about LIMIT per WINDOW over the run.
    const plausible = ((LIMIT * RATE_RUN_MS) / WINDOW) * 0.5;
    assert.ok(admitted.length >= plausible, `only ${admitted.length} admissions in ${RATE_RUN_MS} ms`);
  });
}

/**
 * Scenario 3, the dog-pile (seed 003): 4 processes × 5 concurrent requests miss the cache for one
 * cold key at the same moment. With `cached()` one of them computes the value; the others queue
 * on the lock `cache:<key>` (FIFO, woken by hand-off) and then read what it stored.
 */
import { randomBytes } from 'node:crypto';
import { CACHE_LOCK_PREFIX } from '../../../src/index.js';
import { checkDogPile } from '../checks.js';
import { ms } from '../display.js';
import { crashed, observer, type ScenarioContext, type ScenarioResult } from '../scenario.js';
import { within } from '../workers.js';
import type { DogPileConfig } from './web.js';

export async function dogPile(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { display } = ctx;
  const processes = 4;
  const perProcess = 5;
  const requests = processes * perProcess;
  // A fresh key per run, so the cache is cold even on a Redis that ran the demo before.
  const key = `report:2026-11:${randomBytes(4).toString('hex')}`;
  const config: DogPileConfig = { key, requests: perProcess, computeMs: 400 };
  const answers: unknown[] = [];
  const latencies: number[] = [];
  let computations = 0;

  const lockEvents = { waiting: 0, handoff: 0 };
  // Watch the lock: how many requests queued behind the one computing.
  const hf = await observer(ctx);
  const watching = new AbortController();
  const stream = hf.watch(CACHE_LOCK_PREFIX + key, { signal: watching.signal });
  const witnessed = (async () => {
    for await (const e of stream) {
      if (e.type === 'waiting' || e.type === 'handoff') lockEvents[e.type]++;
    }
  })().catch(() => {}); // a failed stream shows as its `ready` rejecting, below

  const crew = ctx.hosts.crew(
    Array.from({ length: processes }, (_, i) => ({
      name: `web-${i + 1}`,
      role: 'web',
      config,
    })),
    (worker, m) => {
      if (m.type === 'ready') return;
      if (m.type === 'computing') {
        computations++;
        display.note(`${worker.name} holds cache:${key} and computes the report`);
      }
      if (m.type === 'answer') {
        answers.push(m.value);
        latencies.push(Number(m.ms));
        if (answers.length === requests) display.note(`${requests}/${requests} requests answered`);
      }
      display.status([
        `  requests  ${answers.length}/${requests} answered · computations ${computations} · queued on the lock ${lockEvents.waiting}`,
      ]);
    },
  );
  try {
    await stream.ready;
    await within(crew, 30_000, 'the web processes starting', crew.waitFor('ready'));
    const pids = crew.workers.map((w) => w.pid).join(', ');
    display.note(`${processes} processes (pids ${pids}) × ${perProcess} concurrent requests for the cold key ${key}`);
    crew.broadcast({ type: 'go' });
    await within(crew, 15_000, 'every request', crew.waitFor('done'));
  } catch (error) {
    return crashed(error);
  } finally {
    watching.abort();
    await witnessed;
    await crew.stop();
    await hf.close();
    display.clear();
  }
  const problems = checkDogPile(requests, answers, computations);
  const where = ctx.target.cache.kind === 'redis' ? 'Redis (redisCacheStore)' : 'a shared directory (fileCacheStore)';
  return {
    ok: problems.length === 0,
    summary: `${requests} concurrent requests from ${processes} processes for one cold key: computed ${computations}×, all got the same value`,
    details: [
      `${lockEvents.waiting} queued on cache:<key> and were handed the lock in turn (${lockEvents.handoff} hand-offs), no polling`,
      `slowest answer ${ms(Math.max(0, ...latencies))}; the value is cached in ${where}`,
      ...problems.map((problem) => `✗ ${problem}`),
    ],
  };
}

/**
 * The demo's verdicts (examples/demo/checks.ts) on hand-made histories: each accepts a clean one
 * and names the violation in a broken one, so a demo run that went wrong cannot print ✓.
 * test/demo.test.ts runs the demo itself end to end.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  type AgentEntry,
  type AgentEvent,
  busiestWindow,
  type ContactCenterHistory,
  checkContactCenter,
  checkDogPile,
  checkRate,
  checkTicks,
  type ManagerEntry,
  type TickReport,
} from '../examples/demo/checks.js';
import { fileCacheStore } from '../examples/demo/dog-pile/file-cache-store.js';

/** Two agents (ann: 2, bob: 1), three tasks; bob logs out after his task. All clean. */
function history(): ContactCenterHistory {
  const manager: ManagerEntry[] = [
    { kind: 'queued', task: 1 },
    { kind: 'queued', task: 2 },
    { kind: 'queued', task: 3 },
    { kind: 'assign', task: 3, agent: 'ann' },
    { kind: 'assign', task: 1, agent: 'bob' },
    { kind: 'assign', task: 2, agent: 'ann' },
  ];
  const reports: AgentEntry[] = [
    { kind: 'started', agent: 'ann', task: 3 },
    { kind: 'started', agent: 'bob', task: 1 },
    { kind: 'started', agent: 'ann', task: 2 },
    { kind: 'finished', agent: 'bob', task: 1 },
    { kind: 'away', agent: 'bob' },
    { kind: 'finished', agent: 'ann', task: 3 },
    { kind: 'finished', agent: 'ann', task: 2 },
  ];
  const slot = (type: AgentEvent['type'], agent: string): AgentEvent => ({
    type,
    name: `agent:${agent}:slots`,
    permits: 1,
  });
  const events: AgentEvent[] = [
    slot('acquired', 'ann'),
    slot('acquired', 'bob'),
    slot('acquired', 'ann'),
    { type: 'acquired', name: 'agent:bob:away', permits: 1 },
    slot('released', 'bob'),
    slot('released', 'ann'),
    slot('released', 'ann'),
  ];
  return {
    agents: [
      { id: 'ann', capacity: 2 },
      { id: 'bob', capacity: 1 },
    ],
    tasks: [
      { id: 1, priority: 2 },
      { id: 2, priority: 1 },
      { id: 3, priority: 3 },
    ],
    away: 'bob',
    manager,
    reports,
    events,
  };
}

describe('contact center verdict', () => {
  it('accepts a clean history', () => {
    const verdict = checkContactCenter(history());
    assert.deepEqual(verdict.problems, []);
    assert.equal(verdict.handled, 3);
    assert.deepEqual(verdict.peakReported, { ann: 2, bob: 1 });
    assert.deepEqual(verdict.peakEvents, { ann: 2, bob: 1 });
  });

  it('catches an agent over capacity, in its reports and in the events', () => {
    const h = history();
    const reports: AgentEntry[] = [{ kind: 'started', agent: 'bob', task: 9 }, ...h.reports];
    const events: AgentEvent[] = [{ type: 'acquired', name: 'agent:bob:slots', permits: 1 }, ...h.events];
    const verdict = checkContactCenter({ ...h, reports, events });
    assert.equal(verdict.peakReported.bob, 2);
    assert.equal(verdict.peakEvents.bob, 2);
    assert.ok(verdict.problems.some((p) => p.includes('bob had 2 tasks at once (reports), capacity 1')));
    assert.ok(verdict.problems.some((p) => p.includes('bob held 2 slots at once (events), capacity 1')));
  });

  it('catches a task started by an agent who logged out', () => {
    const h = history();
    const reports: AgentEntry[] = [
      ...h.reports,
      { kind: 'started', agent: 'bob', task: 4 },
      { kind: 'finished', agent: 'bob', task: 4 },
    ];
    const events: AgentEvent[] = [
      ...h.events,
      { type: 'acquired', name: 'agent:bob:slots', permits: 1 },
      { type: 'released', name: 'agent:bob:slots', permits: 1 },
    ];
    const verdict = checkContactCenter({ ...h, tasks: [...h.tasks, { id: 4, priority: 1 }], reports, events });
    assert.equal(verdict.startedWhileAway, 2, 'once by the reports, once by the events');
    assert.ok(verdict.problems.some((p) => p.includes('started by an agent who had logged out')));
  });

  it('catches a priority inversion, an unhandled task, a missing log-out and a leaked slot', () => {
    const h = history();
    const manager: ManagerEntry[] = [
      { kind: 'queued', task: 1 },
      { kind: 'queued', task: 3 },
      { kind: 'assign', task: 1, agent: 'bob' },
    ];
    const verdict = checkContactCenter({
      ...h,
      manager,
      reports: h.reports.filter((r) => r.kind !== 'away' && r.task !== 2),
      events: h.events.slice(0, -1),
    });
    assert.equal(verdict.inversions, 1);
    const text = verdict.problems.join('\n');
    assert.match(text, /task 1 \(p2\) assigned while task 3 waited/);
    assert.match(text, /task 2 started 0×, finished 0×/);
    assert.match(text, /bob never logged out/);
    assert.match(text, /ann still holds 1 slots/);
  });
});

describe('partner API verdict', () => {
  it('busiestWindow counts half-open windows', () => {
    assert.equal(busiestWindow([0, 100, 799, 800, 1599], 800), 3);
    assert.equal(busiestWindow([], 800), 0);
  });

  it('accepts 5 per 800 ms and refuses 6, or a failed call', () => {
    assert.deepEqual(checkRate([0, 1, 2, 3, 4, 800, 801], 0, 5, 800).problems, []);
    assert.equal(checkRate([0, 1, 2, 3, 4, 799], 0, 5, 800).busiest, 6);
    assert.match(checkRate([0, 1, 2, 3, 4, 799], 0, 5, 800).problems.join(), /6 calls in one 800 ms window/);
    assert.match(checkRate([0], 1, 5, 800).problems.join(), /1 calls failed/);
  });
});

describe('dog-pile verdict', () => {
  it('wants one computation and one value for every request', () => {
    assert.deepEqual(checkDogPile(2, [{ a: 1 }, { a: 1 }], 1), []);
    assert.match(checkDogPile(2, [{ a: 1 }, { a: 1 }], 2).join(), /computed 2×/);
    assert.match(checkDogPile(2, [{ a: 1 }, { a: 2 }], 1).join(), /2 different values/);
    assert.match(checkDogPile(2, [{ a: 1 }], 1).join(), /1 of 2 requests answered/);
  });
});

describe('cron verdict', () => {
  const tick = (fireTime: string, ran: string, ...skipped: string[]): TickReport[] => [
    { instance: ran, fireTime, outcome: 'ran' },
    ...skipped.map((instance) => ({ instance, fireTime, outcome: 'skipped' as const })),
  ];

  it('counts ticks every instance reported, each run exactly once', () => {
    const reports = [...tick('t1', 'a', 'b', 'c'), ...tick('t2', 'b', 'a', 'c'), ...tick('t3', 'c')];
    const verdict = checkTicks(reports, 3, 2);
    assert.deepEqual(verdict.complete, ['t1', 't2']);
    assert.deepEqual(verdict.problems, []);
  });

  it('catches a tick run twice, a tick nobody ran, and too few ticks', () => {
    const twice = [...tick('t1', 'a', 'c'), { instance: 'b', fireTime: 't1', outcome: 'ran' as const }];
    assert.match(checkTicks(twice, 3, 1).problems.join(), /t1 ran on 2 instances/);
    const nobody = ['a', 'b', 'c'].map((instance) => ({ instance, fireTime: 't1', outcome: 'skipped' as const }));
    assert.match(checkTicks(nobody, 3, 1).problems.join(), /nobody ran it/);
    assert.match(checkTicks(tick('t1', 'a', 'b'), 3, 1).problems.join(), /only 0 of 1 ticks/);
  });
});

describe('fileCacheStore', () => {
  it('shares values between stores on one directory and drops them at their TTL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-cache-test-'));
    try {
      const a = fileCacheStore(dir);
      const b = fileCacheStore(dir);
      assert.equal(await a.get('k'), undefined);
      await a.set('k', '{"v":1}', 60_000);
      assert.equal(await b.get('k'), '{"v":1}');
      await b.set('k', '{"v":2}', 60_000);
      assert.equal(await a.get('k'), '{"v":2}');
      await a.set('short', '"x"', 20);
      await new Promise((resolve) => setTimeout(resolve, 40));
      assert.equal(await b.get('short'), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

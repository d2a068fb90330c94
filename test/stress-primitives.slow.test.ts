/**
 * Multi-process stress of the read-write lock, the rate limiter and the election on real
 * redis-servers (one per test). Worker processes record what they did on a clock every process
 * shares (or, for the rate limiter, the server's clock at each decision), and pure checkers
 * (test/stress-primitives/checkers.ts, test/helpers/rate-checker.ts) judge the merged history:
 *
 * - rwlock: no write overlaps any other hold, the writers' non-atomic counter loses no update;
 * - rate limiter: no window [t, t + window) admits more than `limit`, with `tryTake` hammered
 *   and with `take` waiting, and waiting processes share the slots fairly;
 * - election: a leader frozen with SIGSTOP past its TTL is replaced, learns on resume that its
 *   lease is invalid, and no two candidates ever believed in a valid lease at the same instant.
 *
 * Nothing sleeps and hopes: steps wait on IPC messages, or poll a condition with a deadline.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { Leader } from '../src/index.js';
import { type World, world } from './faults/world.js';
import type { Child, Message } from './helpers/child.js';
import { busiestWindow, checkRate, describeRate } from './helpers/rate-checker.js';
import { sleep, waitFor, withTimeout } from './helpers/wait.js';
import type { ErrorInfo, TermReport } from './stress-primitives/candidate.js';
import {
  checkRwHistory,
  checkTerms,
  describeViolations,
  mostConcurrent,
  type RwHold,
  validity,
} from './stress-primitives/checkers.js';
import { CANDIDATE, isWrite, RATE_WORKER, RW_WORKER, rwKeys, wallNow } from './stress-primitives/shared.js';

/** Starting several tsx processes on 2 cores takes a few seconds. */
const START_TIMEOUT = 60_000;
const RUN_TIMEOUT = 60_000;
const TEST_TIMEOUT = 120_000;

interface Run<D> {
  readonly done: D[];
  readonly ms: number;
}

/**
 * Starts one worker per argument list, lets them all go at once (`go()` makes the message, so
 * it can carry a time computed at the last moment), and collects their `done` reports.
 */
async function runWorkers<D extends Message>(
  w: World,
  script: URL,
  argsList: readonly (readonly string[])[],
  go: () => Message,
): Promise<Run<D>> {
  const spawned = await Promise.allSettled(argsList.map((args) => w.spawn(script, args)));
  const children = spawned.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  assert.equal(children.length, argsList.length, 'every worker process spawned');
  await Promise.all(children.map((child) => child.next('ready', START_TIMEOUT)));
  const started = performance.now();
  const message = go();
  for (const child of children) child.send(message);
  const done = await Promise.all(children.map((child) => child.next<D>('done', RUN_TIMEOUT)));
  const ms = performance.now() - started;
  await withTimeout(Promise.all(children.map((child) => child.exited)), 10_000, 'the workers to exit');
  return { done, ms };
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

// ---- 1. read-write lock ----

const RW_ITERATIONS = 150;
/** Four mostly-readers and two mostly-writers: the share of each one's acquisitions that write. */
const RW_SHARES = [0.1, 0.1, 0.1, 0.1, 0.8, 0.8];

interface RwDone extends Message {
  readonly holds: RwHold[];
  readonly tookMs: number;
  readonly stats: {
    readonly writes: number;
    readonly lost: number;
    readonly releasedFalse: number;
    readonly tornReads: number;
    readonly writerSawReaders: number;
    readonly mostReadersInside: number;
    readonly longestWriteWait: number;
    readonly longestReadWait: number;
  };
}

test(`rwlock: ${RW_SHARES.length} processes × ${RW_ITERATIONS} acquisitions, no write overlaps anything`, {
  timeout: TEST_TIMEOUT,
}, async (t) => {
  const w = await world(t);
  const name = 'stress-rw';
  const argsList = RW_SHARES.map((share, i) => {
    const who = share < 0.5 ? `reader${i}` : `writer${i}`;
    return [w.redis.url, w.prefix, name, String(RW_ITERATIONS), String(share), who];
  });
  const { done, ms } = await runWorkers<RwDone>(w, RW_WORKER, argsList, () => ({ type: 'go' }));
  const holds = done.flatMap((d) => d.holds);
  const expectedWrites = sum(
    RW_SHARES.map((share) => Array.from({ length: RW_ITERATIONS }, (_, i) => isWrite(i, share)).filter(Boolean).length),
  );
  t.diagnostic(`rwlock: ${holds.length} acquisitions (${expectedWrites} writes) in ${Math.round(ms)} ms`);

  const counter = Number(await w.admin.get(rwKeys(w.prefix).counter));
  const violations = checkRwHistory(holds, { expected: RW_SHARES.length * RW_ITERATIONS, expectedWrites, counter });
  assert.deepEqual(violations, [], `the history has violations:\n${describeViolations(violations)}`);
  const total = (key: keyof RwDone['stats']): number => sum(done.map((d) => d.stats[key]));
  assert.equal(total('writerSawReaders'), 0, 'no writer saw a reader inside (server-side witness)');
  assert.equal(total('tornReads'), 0, 'no reader saw the counter change during its hold');
  assert.equal(total('lost'), 0, 'no lease was lost inside its critical section');
  assert.equal(total('releasedFalse'), 0, 'every write release found its lease still held');
  assert.equal(Number(await w.admin.get(rwKeys(w.prefix).readers)), 0, 'every reader left');
  // The run must have exercised sharing, or "no overlap" is trivially true of a mutex.
  const readers = mostConcurrent(holds, 'read');
  assert.ok(readers >= 2, `readers never held the lock together (at most ${readers} at once)`);

  // Not assertions: writers were not starved by the readers around them.
  t.diagnostic(
    `rwlock: at most ${readers} readers at once; inside counter peaked at ${Math.max(...done.map((d) => d.stats.mostReadersInside))}`,
  );
  done.forEach((d, i) => {
    const role = (RW_SHARES[i] ?? 0) < 0.5 ? 'mostly-reader' : 'mostly-writer';
    const { writes, longestWriteWait, longestReadWait } = d.stats;
    t.diagnostic(
      `rwlock: ${role} ${i} done ${d.holds.length}/${RW_ITERATIONS} (${writes} writes) in ${Math.round(d.tookMs)} ms; ` +
        `longest wait: write ${Math.round(longestWriteWait)} ms, read ${Math.round(longestReadWait)} ms`,
    );
  });
  for (const [i, d] of done.entries()) {
    assert.equal(d.holds.length, RW_ITERATIONS, `worker ${i} completed its quota`);
  }
});

// ---- 2. and 3. rate limiter ----

interface RateDone extends Message {
  readonly admitted: number[];
  readonly refused: number;
  readonly badResults: number;
}

const RATE_WORKERS = 4;
const RATE_RUN_MS = 3000;

async function runRate(
  w: World,
  mode: 'try' | 'take',
  limit: number,
  window: number,
): Promise<{ done: RateDone[]; admitted: number[]; ms: number }> {
  const args = [w.redis.url, w.prefix, `stress-rate-${mode}`, mode, String(limit), String(window)];
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

test(`rate limiter (sliding window): ${RATE_WORKERS} processes hammer tryTake, never more than the limit per window`, {
  timeout: TEST_TIMEOUT,
}, async (t) => {
  const w = await world(t);
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
  const w = await world(t);
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

// ---- 4. election ----

const ELECTION_TTL = 500;
/** How long a frozen leader stays frozen: longer than its TTL. */
const STOPPED_FOR = ELECTION_TTL * 1.5;
const CANDIDATES = ['c0', 'c1', 'c2'];
const ROUNDS = ['stop', 'resign', 'stop', 'resign', 'stop'] as const;

interface Elected extends Message {
  readonly fence: string;
  readonly start: number;
  readonly deadline: number;
}

interface Renewed extends Message {
  readonly fence: string;
  readonly at: number;
  readonly deadline: number;
  readonly nextRenewalAt: number;
}

interface Checked extends Message {
  readonly fence: string;
  readonly valid: boolean;
  readonly abortedAtCheck: boolean;
  readonly afterResume: TermReport['afterResume'];
  readonly reason: ErrorInfo;
  readonly extend: { readonly resolved: true } | ({ readonly resolved: false } & ErrorInfo);
}

interface CandidateDone extends Message {
  readonly terms: TermReport[];
}

interface Reign {
  readonly who: string;
  readonly child: Child;
  readonly elected: Elected;
}

test(`election: ${CANDIDATES.length} candidates, leaders frozen past their TTL, never two valid leases at once`, {
  timeout: TEST_TIMEOUT,
}, async (t) => {
  const w = await world(t);
  const hf = await w.client();
  const name = 'stress-election';
  const election = hf.election(name, { ttl: ELECTION_TTL });
  const spawned = await Promise.all(
    CANDIDATES.map((who) => w.spawn(CANDIDATE, [w.redis.url, w.prefix, name, String(ELECTION_TTL), who])),
  );
  const children = new Map(CANDIDATES.map((who, i) => [who, spawned[i] as Child]));
  await Promise.all(spawned.map((child) => child.next('ready', START_TIMEOUT)));
  for (const child of spawned) child.send({ type: 'go' });

  /** The next leader after the one with fence `after`: found on the server, confirmed by its process. */
  const nextLeader = async (after: bigint): Promise<Reign> => {
    let leader: Leader | null = null;
    await waitFor(
      async () => {
        leader = await election.leader();
        return leader !== null && leader.fence > after;
      },
      { timeout: 10_000, what: `a leader after fence ${after}` },
    );
    const { value, fence } = leader as unknown as Leader;
    const who = String(value);
    const child = children.get(who);
    assert.ok(child, `the leader ${who} is one of the candidates`);
    const elected = await child.next<Elected>('elected', 10_000);
    assert.equal(elected.fence, fence.toString(), `${who} reports the term the server shows`);
    return { who, child, elected };
  };

  const stops: { who: string; renewed: Renewed; stopAt: number; successor: Reign; checked: Checked }[] = [];
  const reigns: Reign[] = [await nextLeader(-1n)];
  for (const round of ROUNDS) {
    const reign = reigns.at(-1) as Reign;
    const fence = BigInt(reign.elected.fence);
    if (round === 'resign') {
      reign.child.send({ type: 'resign' });
      const resigned = await reign.child.next<Message & { resigned: boolean }>('resigned');
      assert.equal(resigned.resigned, true, `${reign.who} still led when it resigned`);
      reigns.push(await nextLeader(fence));
      continue;
    }
    // Freeze the leader right after a renewal was confirmed, before the next one can be sent,
    // so the deadline it reported is the one its lease keeps while frozen.
    reign.child.send({ type: 'notify-renewal' });
    const renewed = await reign.child.next<Renewed>('renewed', 5000);
    assert.equal(renewed.fence, reign.elected.fence);
    reign.child.signal('SIGSTOP');
    const stopAt = wallNow();
    assert.ok(
      stopAt < renewed.nextRenewalAt,
      `${reign.who} was frozen ${(stopAt - renewed.nextRenewalAt).toFixed(1)} ms after its next renewal could be sent: ` +
        'its recorded deadline may be stale, the run proves nothing (machine too loaded?)',
    );
    const successor = await nextLeader(fence);
    reigns.push(successor);
    // Keep it frozen well past its TTL, then wake it and ask what its lease says.
    await sleep(Math.max(0, stopAt + STOPPED_FOR - wallNow()));
    reign.child.signal('SIGCONT');
    reign.child.send({ type: 'check' });
    const checked = await reign.child.next<Checked>('checked', 10_000);
    stops.push({ who: reign.who, renewed, stopAt, successor, checked });
  }

  for (const child of spawned) child.send({ type: 'finish' });
  const done = await Promise.all(spawned.map((child) => child.next<CandidateDone>('done', 10_000)));
  await withTimeout(Promise.all(spawned.map((child) => child.exited)), 10_000, 'the candidates to exit');
  const records = done.flatMap((d) => d.terms);
  const terms = records.map(validity);

  // The frozen leaders: told on resume that they lost, before anything else.
  for (const { who, renewed, stopAt, successor, checked } of stops) {
    const record = records.find((r) => r.fence === renewed.fence);
    assert.ok(record, `${who}'s frozen term is in its report`);
    assert.equal(checked.fence, renewed.fence, `${who} checked the frozen term`);
    assert.equal(
      checked.afterResume?.valid,
      false,
      `${who}: lease.valid was false at the first sample after the resume`,
    );
    assert.equal(checked.valid, false, `${who}: lease.valid is false when the check arrives`);
    assert.deepEqual(
      [checked.reason.leaseLost, checked.reason.code],
      [true, 'LEASE_LOST'],
      `${who}'s lease signal aborted with a LeaseLostError (${checked.reason.message})`,
    );
    assert.ok(
      !checked.extend.resolved && checked.extend.leaseLost,
      `${who}: extend() on the lost lease is refused with LeaseLostError`,
    );
    assert.equal(record.how, 'lost');
    assert.equal(record.deadline, renewed.deadline, `${who}'s deadline did not move after it was frozen`);
    assert.ok(record.endAt !== null && record.endAt > record.deadline, `${who} noticed the loss after its deadline`);
    const margin = successor.elected.start - renewed.deadline;
    t.diagnostic(
      `election: ${who} frozen ${Math.round(stopAt - renewed.at)} ms after a renewal; ${successor.who} led ` +
        `${margin.toFixed(1)} ms after ${who}'s local deadline; on resume ${who} saw valid=${checked.afterResume?.valid}, ` +
        `aborted=${checked.afterResume?.aborted} (paused ${Math.round(checked.afterResume?.paused ?? 0)} ms)`,
    );
  }

  // Every leader's fence above the one before, in the order the leaders came.
  const fences = reigns.map((r) => BigInt(r.elected.fence));
  for (let i = 1; i < fences.length; i++) {
    assert.ok((fences[i] as bigint) > (fences[i - 1] as bigint), `leader ${i}'s fence is above leader ${i - 1}'s`);
  }
  assert.ok(terms.length >= ROUNDS.length + 1, `${terms.length} terms recorded`);
  const violations = checkTerms(terms);
  assert.deepEqual(violations, [], `two leaders at once, or fences out of order:\n${describeViolations(violations)}`);
  t.diagnostic(
    `election: ${terms.length} terms (${reigns.map((r) => r.who).join(' → ')}), ` +
      `renewals per term ${records.map((r) => r.renewals).join(', ')}`,
  );
});

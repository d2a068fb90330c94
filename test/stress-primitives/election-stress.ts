/**
 * The election stress run: candidates in separate processes (candidate.ts) campaign in a loop;
 * leaders are frozen with SIGSTOP past their TTL (each is replaced, and learns on resume that its
 * lease is invalid) or resign, and no two candidates ever believed in a valid lease at the same
 * instant (checkTerms, on the machine's shared clock).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Leader } from '../../src/index.js';
import type { Child, Message } from '../helpers/child.js';
import { sleep, waitFor, withTimeout } from '../helpers/wait.js';
import type { ErrorInfo, TermReport } from './candidate.js';
import { checkTerms, describeViolations, validity } from './checkers.js';
import type { StressEngine } from './engine.js';
import { START_TIMEOUT, TEST_TIMEOUT } from './run-workers.js';
import { CANDIDATE, wallNow } from './shared.js';

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

export function electionStress(engine: StressEngine): void {
  test(`election: ${CANDIDATES.length} candidates, leaders frozen past their TTL, never two valid leases at once`, {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const ttl = engine.electionTtl;
    /** How long a frozen leader stays frozen: longer than its TTL. */
    const stoppedFor = ttl * 1.5;
    /** A frozen leader's successor comes once the backend expired its lease: up to a TTL after the freeze. */
    const successorTimeout = 10_000 + ttl;
    const w = await engine.world(t);
    const hf = await w.client();
    const name = 'stress-election';
    const election = hf.election(name, { ttl });
    const spawned = await Promise.all(
      CANDIDATES.map((who) => w.spawn(CANDIDATE, [w.url, w.prefix, name, String(ttl), who])),
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
        { timeout: successorTimeout, what: `a leader after fence ${after}` },
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
      await sleep(Math.max(0, stopAt + stoppedFor - wallNow()));
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
}

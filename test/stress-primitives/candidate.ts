/**
 * One election candidate process: `candidate.ts <url> <prefix> <name> <ttl> <who>`.
 * Reports `ready`, waits for `go`, then campaigns in a loop: each time it leads it records a term
 * and reports `elected`; it leads until its lease is lost (signal aborted), or the test sends
 * `resign`; then it campaigns again. `finish` ends the loop (resigning if it leads) and it
 * reports `done` with every term.
 *
 * The lease's local deadline is tracked in shared-clock terms by sampling `lease.remaining`
 * every SAMPLE_MS while it is valid (remaining first, then the clock, so the figure is never
 * earlier than the real deadline). The deadline only moves when a renewal is confirmed, and the
 * next renewal is sent no earlier than `deadline - 2/3 ttl`; on `notify-renewal` the candidate
 * reports the next deadline move as `renewed`, with that time as `nextRenewalAt`, so a test that
 * freezes it (SIGSTOP) before then knows its recorded deadline is final.
 *
 * After `check` (sent once the test resumed it with SIGCONT) it reports what the lost lease says:
 * the first sample after the pause (the sampler's timer is the first due after a resume), the
 * state when the message arrived, the abort reason, and whether `extend()` is refused.
 */
import { connect, HoldfastError, type Lease, LeaseLostError } from '../../src/index.js';
import { type Message, nextMessage, report, runChild } from '../helpers/child.js';
import { aborted, withTimeout } from '../helpers/wait.js';
import type { TermRecord } from './checkers.js';
import { wallNow } from './shared.js';

const [url = '', prefix = '', name = '', ttlArg = '', who = ''] = process.argv.slice(2);
const ttl = Number(ttlArg);
const SAMPLE_MS = 5;
/** The renewer may renew up to this much early, to batch leases (src/renewer.ts); counted for safety. */
const RENEW_EARLY_MS = 25;

export interface ErrorInfo {
  readonly leaseLost: boolean;
  readonly name: string;
  readonly code: string | null;
  readonly message: string;
}

export interface TermReport extends TermRecord {
  how: 'lost' | 'resigned' | 'finished' | null;
  reason: ErrorInfo | null;
  /** Deadline moves seen: confirmed renewals. */
  renewals: number;
  /** The first sample after a pause longer than the TTL (a SIGSTOP): what the lease said then. */
  afterResume: { readonly valid: boolean; readonly aborted: boolean; readonly paused: number } | null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Current {
  readonly lease: Lease;
  readonly term: Mutable<TermReport>;
}

function describeError(error: unknown): ErrorInfo {
  return {
    leaseLost: error instanceof LeaseLostError,
    name: error instanceof Error ? error.name : typeof error,
    code: error instanceof HoldfastError ? error.code : null,
    message: error instanceof Error ? error.message : String(error),
  };
}

runChild(async () => {
  const hf = await connect(url, { prefix });
  const election = hf.election(name, { ttl });
  const terms: Mutable<TermReport>[] = [];
  let current: Current | null = null;
  let notifyRenewal = false;

  /** Brings the current term's deadline up to date, or notes when its lease was first seen invalid. */
  const sample = (): void => {
    if (current === null || current.term.endAt !== null) return;
    const { lease, term } = current;
    const now = wallNow();
    if (!lease.valid) {
      term.invalidAt ??= now;
      return;
    }
    const remaining = lease.remaining;
    const deadline = wallNow() + remaining;
    if (deadline <= term.deadline + 0.5) return;
    term.deadline = deadline;
    term.renewals++;
    if (notifyRenewal) {
      notifyRenewal = false;
      const nextRenewalAt = deadline - (2 * ttl) / 3 - RENEW_EARLY_MS;
      void report({ type: 'renewed', fence: term.fence, at: now, deadline, nextRenewalAt });
    }
  };

  let lastSampleAt = wallNow();
  const sampler = setInterval(() => {
    const now = wallNow();
    const paused = now - lastSampleAt;
    lastSampleAt = now;
    if (current !== null && paused > ttl && current.term.afterResume === null) {
      current.term.afterResume = { valid: current.lease.valid, aborted: current.lease.signal.aborted, paused };
    }
    sample();
  }, SAMPLE_MS);

  process.on('message', (message: Message) => {
    if (message.type === 'notify-renewal') notifyRenewal = true;
  });

  // `check`: what the lease of the latest term says, first thing when the message arrives.
  const checking = (async () => {
    for (;;) {
      await nextMessage('check');
      // (a cast: TypeScript cannot see that the main loop below assigns it meanwhile)
      const held = current as Current | null;
      if (held === null) {
        await report({ type: 'checked', error: 'check arrived before any term' });
        continue;
      }
      const { lease, term } = held;
      const valid = lease.valid;
      const abortedAtCheck = lease.signal.aborted;
      const reason = await withTimeout(aborted(lease.signal), 5000, 'the lease signal to abort');
      let extend: { resolved: true } | ({ resolved: false } & ErrorInfo);
      try {
        await lease.extend();
        extend = { resolved: true };
      } catch (error) {
        extend = { resolved: false, ...describeError(error) };
      }
      const afterResume = term.afterResume;
      await report({
        type: 'checked',
        fence: term.fence,
        valid,
        abortedAtCheck,
        afterResume,
        reason: describeError(reason),
        extend,
      });
    }
  })();
  // A check that cannot complete fails the process, so the test sees why instead of a timeout.
  checking.catch(async (error: unknown) => {
    await report({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  });

  const finish = new AbortController();
  const finishing = nextMessage('finish').then(() => finish.abort(new Error('finished')));
  let resignRequest = nextMessage('resign');

  await report({ type: 'ready' });
  await nextMessage('go');
  while (!finish.signal.aborted) {
    let lease: Lease;
    try {
      lease = await election.campaign({ value: who, signal: finish.signal });
    } catch (error) {
      if (finish.signal.aborted) break;
      throw error;
    }
    const start = wallNow();
    const remaining = lease.remaining;
    const term: Mutable<TermReport> = {
      who,
      fence: lease.fence.toString(),
      start,
      deadline: wallNow() + remaining,
      endAt: null,
      invalidAt: null,
      how: null,
      reason: null,
      renewals: 0,
      afterResume: null,
    };
    terms.push(term);
    current = { lease, term };
    // The end of a lost term is when the signal aborted (a listener runs synchronously then).
    lease.signal.addEventListener(
      'abort',
      () => {
        if (term.endAt !== null) return;
        term.endAt = wallNow();
        term.how = 'lost';
        term.reason = describeError(lease.signal.reason);
      },
      { once: true },
    );
    const lost = aborted(lease.signal).then(() => 'lost' as const);
    await report({ type: 'elected', fence: term.fence, start, deadline: term.deadline });

    const ended = await Promise.race([
      lost,
      resignRequest.then(() => 'resign' as const),
      finishing.then(() => 'finish' as const),
    ]);
    if (ended === 'lost') continue;
    if (ended === 'resign') resignRequest = nextMessage('resign');
    // Steps down: the deadline as of now, then the end, then the release (which aborts the signal).
    sample();
    term.endAt = wallNow();
    term.how = ended === 'resign' ? 'resigned' : 'finished';
    const resigned = await election.resign();
    if (ended === 'resign') await report({ type: 'resigned', fence: term.fence, resigned });
  }
  clearInterval(sampler);
  await report({ type: 'done', terms });
  await hf.close();
});

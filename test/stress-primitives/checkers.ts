/**
 * Checkers for the read-write lock and election stress tests. Pure, like test/helpers/checker.ts:
 * they read records collected from many processes and return every violation (an empty list
 * means the history is consistent). Read-write holds are stamped from one Redis counter every
 * worker shares (rw-worker.ts), which orders them as they happened; election terms are on
 * the machine's monotonic clock (test/helpers/machine-clock.ts, fractional ms). Intervals are closed, so two that
 * touch at one instant overlap, since nothing proves the first had ended.
 */

/** Violations beyond this many of one kind are not listed: one is enough to fail. */
const MAX_PER_KIND = 5;

function compareFences(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const finiteInterval = (start: number, end: number): boolean =>
  Number.isFinite(start) && Number.isFinite(end) && start <= end;

const overlap = (a: { start: number; end: number }, b: { start: number; end: number }): boolean =>
  a.start <= b.end && b.start <= a.end;

// ---- read-write lock ----

export interface RwHold {
  readonly kind: 'read' | 'write';
  /** The lease's fence, as a decimal string. */
  readonly fence: string;
  /** From `acquire()` resolving to just before `release()`. */
  readonly start: number;
  readonly end: number;
  readonly who: string;
}

export interface RwCheckOptions {
  /** How many holds (read and write) the run performed. */
  readonly expected: number;
  /** How many of them were writes: the writers' counter must show exactly that many increments. */
  readonly expectedWrites: number;
  /** The counter writers incremented non-atomically, read after every worker finished. */
  readonly counter: number;
}

const label = (hold: RwHold): string => `${hold.kind} ${hold.who} [${hold.start}, ${hold.end}] fence ${hold.fence}`;

export type RwViolation =
  | { readonly kind: 'write-overlap'; readonly write: string; readonly other: string }
  | { readonly kind: 'fence-order'; readonly earlier: string; readonly later: string }
  | { readonly kind: 'duplicate-fence'; readonly fence: string; readonly holds: readonly string[] }
  | { readonly kind: 'bad-interval'; readonly hold: string }
  | { readonly kind: 'missing-holds'; readonly holds: number; readonly expected: number; readonly writes: number }
  | { readonly kind: 'lost-update'; readonly counter: number; readonly expected: number };

/**
 * A write excludes every other hold: no interval may overlap a write's. Around a write the
 * backend's grant order is known (a hold that ended before the write began was granted before
 * it, one that began after the write ended was granted after it), so fences must agree; readers
 * that overlap each other may have fences in any order. Every grant's fence is distinct.
 */
export function checkRwHistory(holds: readonly RwHold[], options: RwCheckOptions): RwViolation[] {
  const found: RwViolation[] = [];
  const push = (violation: RwViolation): void => {
    if (found.filter((v) => v.kind === violation.kind).length < MAX_PER_KIND) found.push(violation);
  };
  for (const hold of holds) {
    if (!finiteInterval(hold.start, hold.end)) push({ kind: 'bad-interval', hold: label(hold) });
  }
  const writes = holds.filter((hold) => hold.kind === 'write');
  for (const write of writes) {
    for (const other of holds) {
      // Each pair of writes once.
      if (other === write || (other.kind === 'write' && holds.indexOf(other) < holds.indexOf(write))) continue;
      if (overlap(write, other)) push({ kind: 'write-overlap', write: label(write), other: label(other) });
      if (other.end < write.start && compareFences(other.fence, write.fence) >= 0) {
        push({ kind: 'fence-order', earlier: label(other), later: label(write) });
      }
      if (other.start > write.end && compareFences(write.fence, other.fence) >= 0) {
        push({ kind: 'fence-order', earlier: label(write), later: label(other) });
      }
    }
  }
  const byFence = new Map<string, string[]>();
  for (const hold of holds) {
    const fence = BigInt(hold.fence).toString();
    byFence.set(fence, [...(byFence.get(fence) ?? []), label(hold)]);
  }
  for (const [fence, who] of byFence) {
    if (who.length > 1) push({ kind: 'duplicate-fence', fence, holds: who });
  }
  if (holds.length !== options.expected || writes.length !== options.expectedWrites) {
    push({ kind: 'missing-holds', holds: holds.length, expected: options.expected, writes: writes.length });
  }
  if (options.counter !== options.expectedWrites) {
    push({ kind: 'lost-update', counter: options.counter, expected: options.expectedWrites });
  }
  return found;
}

/** The most holds of `kind` inside at one instant (a sweep; touching intervals count as overlapping). */
export function mostConcurrent(holds: readonly RwHold[], kind: RwHold['kind']): number {
  const events = holds
    .filter((hold) => hold.kind === kind)
    .flatMap((hold) => [
      { at: hold.start, delta: 1 },
      { at: hold.end, delta: -1 },
    ]);
  events.sort((a, b) => a.at - b.at || b.delta - a.delta);
  let inside = 0;
  let most = 0;
  for (const event of events) {
    inside += event.delta;
    most = Math.max(most, inside);
  }
  return most;
}

// ---- election ----

/** One leadership term as a candidate process saw it. */
export interface TermRecord {
  readonly who: string;
  readonly fence: string;
  /** When `campaign()` resolved. */
  readonly start: number;
  /**
   * The lease's local deadline in shared-clock terms, as last sampled while the lease was valid
   * (`wallNow() + lease.remaining`, taken in that order, so never earlier than the real one).
   */
  readonly deadline: number;
  /** When the term ended here: `resign()` called, or `lease.signal` aborted; null if it never did. */
  readonly endAt: number | null;
  /** The first sample that found `lease.valid` false, or null. */
  readonly invalidAt: number | null;
}

export interface Term {
  readonly who: string;
  readonly fence: string;
  readonly start: number;
  /** The last instant the candidate could have believed its lease valid. */
  readonly validEnd: number;
}

/**
 * A lease is valid until the first of: its local deadline, the end of the term (release or lost,
 * after which `lease.valid` is false whatever the clock says), and the first time it was seen
 * invalid. Each is an upper bound on the instant `lease.valid` turned false, so the minimum is.
 */
export function validity(record: TermRecord): Term {
  const validEnd = Math.min(record.deadline, record.endAt ?? Number.POSITIVE_INFINITY, record.invalidAt ?? Infinity);
  return { who: record.who, fence: record.fence, start: record.start, validEnd };
}

export type TermViolation =
  | { readonly kind: 'two-leaders'; readonly earlier: Term; readonly later: Term }
  | { readonly kind: 'fence-order'; readonly earlier: Term; readonly later: Term }
  | { readonly kind: 'bad-interval'; readonly term: Term };

/**
 * At no instant may two candidates both believe they hold a valid lease: the validity intervals
 * [start, validEnd] of all terms are pairwise disjoint. Then start order is grant order, and each
 * new leader's fence must be above every earlier leader's.
 */
export function checkTerms(terms: readonly Term[]): TermViolation[] {
  const found: TermViolation[] = [];
  const push = (violation: TermViolation): void => {
    if (found.filter((v) => v.kind === violation.kind).length < MAX_PER_KIND) found.push(violation);
  };
  for (const term of terms) {
    if (!finiteInterval(term.start, term.validEnd)) push({ kind: 'bad-interval', term });
  }
  const byStart = [...terms].sort((a, b) => a.start - b.start);
  for (let i = 0; i < byStart.length; i++) {
    const earlier = byStart[i] as Term;
    for (let j = i + 1; j < byStart.length; j++) {
      const later = byStart[j] as Term;
      if (later.start <= earlier.validEnd) push({ kind: 'two-leaders', earlier, later });
      if (compareFences(earlier.fence, later.fence) >= 0) push({ kind: 'fence-order', earlier, later });
    }
  }
  return found;
}

/** One line per violation, for an assertion message. */
export function describeViolations(violations: readonly object[]): string {
  return violations.map((v) => JSON.stringify(v)).join('\n');
}

/**
 * Checks a history of lock holds collected from many processes. Pure: it only reads the records
 * and returns every violation it finds (an empty list means the history is consistent), so a
 * failing stress run names what went wrong instead of stopping at the first symptom.
 *
 * Times must come from one source that every process shares and that orders events as they
 * happened (the stress workers use stamps from one Redis INCR counter, never per-process clocks);
 * an interval is the time its holder spent inside the critical section, taken after `acquire()`
 * resolved and before `release()` was called. A stamp taken inside both of two holds proves they
 * overlapped; holds that did overlap may still go unseen, so a clean history is a lower bound.
 */

export interface Hold {
  /** The lease's fence, as a decimal string (bigints do not survive JSON). */
  readonly fence: string;
  readonly start: number;
  readonly end: number;
  /** Who held it (e.g. `pid:iteration`), named in violations. */
  readonly who: string;
}

export interface CheckOptions {
  /** How many holds may overlap at any instant: 1 for a mutex, `permits` for a semaphore. */
  readonly capacity: number;
  /**
   * Sorted by start, fences must be strictly increasing. Only sound for a mutex: with several
   * permits a grant may be recorded after a later grant's holder already started.
   */
  readonly orderedFences: boolean;
  /** The number of holds the run performed, and so the increments the counter must show. */
  readonly expected: number;
  /** The shared counter's final value, read after every worker finished. */
  readonly counter: number;
}

export type Violation =
  | { readonly kind: 'overlap'; readonly concurrent: number; readonly at: number; readonly holds: readonly string[] }
  | { readonly kind: 'lost-update'; readonly counter: number; readonly expected: number }
  | { readonly kind: 'missing-holds'; readonly holds: number; readonly expected: number }
  | { readonly kind: 'fence-order'; readonly earlier: Hold; readonly later: Hold }
  | { readonly kind: 'duplicate-fence'; readonly fence: string; readonly holds: readonly string[] }
  | { readonly kind: 'bad-interval'; readonly hold: Hold };

/** Violations beyond this many of one kind are not listed: one is enough to fail. */
const MAX_PER_KIND = 5;

export function checkHistory(holds: readonly Hold[], options: CheckOptions): Violation[] {
  const violations: Violation[] = [
    ...badIntervals(holds),
    ...overlaps(holds, options.capacity),
    ...(options.orderedFences ? fenceOrder(holds) : duplicateFences(holds)),
  ];
  if (holds.length !== options.expected) {
    violations.push({ kind: 'missing-holds', holds: holds.length, expected: options.expected });
  }
  if (options.counter !== options.expected) {
    violations.push({ kind: 'lost-update', counter: options.counter, expected: options.expected });
  }
  return violations;
}

/** One line per violation, for an assertion message. */
export function describe(violations: readonly Violation[]): string {
  return violations.map((v) => JSON.stringify(v)).join('\n');
}

function badIntervals(holds: readonly Hold[]): Violation[] {
  return holds
    .filter((hold) => !(Number.isFinite(hold.start) && Number.isFinite(hold.end) && hold.start <= hold.end))
    .slice(0, MAX_PER_KIND)
    .map((hold) => ({ kind: 'bad-interval', hold }));
}

/**
 * A sweep over start and end events. Intervals are closed: two holds that touch at one instant
 * overlap, since nothing proves the first had left. At equal times starts sort first for that reason.
 */
function overlaps(holds: readonly Hold[], capacity: number): Violation[] {
  const events = holds.flatMap((hold) => [
    { at: hold.start, delta: 1, hold },
    { at: hold.end, delta: -1, hold },
  ]);
  events.sort((a, b) => a.at - b.at || b.delta - a.delta);
  const inside = new Set<Hold>();
  const found: Violation[] = [];
  for (const event of events) {
    if (event.delta < 0) {
      inside.delete(event.hold);
      continue;
    }
    inside.add(event.hold);
    if (inside.size > capacity && found.length < MAX_PER_KIND) {
      const who = [...inside].map((h) => `${h.who} [${h.start}, ${h.end}] fence ${h.fence}`);
      found.push({ kind: 'overlap', concurrent: inside.size, at: event.at, holds: who });
    }
  }
  return found;
}

function compareFences(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function fenceOrder(holds: readonly Hold[]): Violation[] {
  const byStart = [...holds].sort((a, b) => a.start - b.start);
  const found: Violation[] = [];
  for (let i = 1; i < byStart.length && found.length < MAX_PER_KIND; i++) {
    const earlier = byStart[i - 1] as Hold;
    const later = byStart[i] as Hold;
    if (compareFences(earlier.fence, later.fence) >= 0) found.push({ kind: 'fence-order', earlier, later });
  }
  return found;
}

function duplicateFences(holds: readonly Hold[]): Violation[] {
  const byFence = new Map<string, string[]>();
  for (const hold of holds) {
    const fence = BigInt(hold.fence).toString();
    byFence.set(fence, [...(byFence.get(fence) ?? []), hold.who]);
  }
  return [...byFence]
    .filter(([, who]) => who.length > 1)
    .slice(0, MAX_PER_KIND)
    .map(([fence, who]) => ({ kind: 'duplicate-fence', fence, holds: who }));
}

/**
 * Checks a history of rate-limiter admissions collected from many processes. Pure: it reads the
 * records and returns every violation it finds (an empty list means the history keeps the limit).
 *
 * The property is the sliding window's promise: no half-open interval [s, s + window) holds more
 * than `limit` admissions. The interval with the most admissions can always be slid right until
 * it starts at an admission without losing any, so checking every admission as a window start is
 * complete.
 *
 * Times are the backend's clock at each decision (`TakeResult.at`: whole ms, floored). Flooring
 * cannot invent a violation: two admissions at least `window` ms apart (an integer) stay at least
 * `window` apart once floored, so they never share a checked window.
 */

export interface RateLimit {
  readonly limit: number;
  /** ms */
  readonly window: number;
}

export type RateViolation =
  | {
      readonly kind: 'over-limit';
      /** The window [start, start + window) that admitted too many. */
      readonly start: number;
      readonly count: number;
      readonly limit: number;
      /** The first few admissions in that window. */
      readonly sample: readonly number[];
    }
  | { readonly kind: 'bad-time'; readonly index: number; readonly at: unknown };

/** Violations beyond this many of one kind are not listed: one is enough to fail. */
const MAX_PER_KIND = 5;
const SAMPLE = 8;

export function checkRate(admissions: readonly number[], { limit, window }: RateLimit): RateViolation[] {
  const found: RateViolation[] = [];
  const times: number[] = [];
  admissions.forEach((at, index) => {
    if (typeof at === 'number' && Number.isFinite(at)) times.push(at);
    else if (found.length < MAX_PER_KIND) found.push({ kind: 'bad-time', index, at });
  });
  times.sort((a, b) => a - b);
  let over = 0;
  let end = 0;
  for (let i = 0; i < times.length; i++) {
    const start = times[i] as number;
    // The first admission at or after start + window: [i, end) are inside [start, start + window).
    if (end < i) end = i;
    while (end < times.length && (times[end] as number) < start + window) end++;
    const count = end - i;
    if (count > limit && over < MAX_PER_KIND) {
      over++;
      found.push({ kind: 'over-limit', start, count, limit, sample: times.slice(i, i + SAMPLE) });
    }
  }
  return found;
}

/** The most admissions any checked window [t, t + window) held: how close the run came to the limit. */
export function busiestWindow(admissions: readonly number[], window: number): number {
  const times = admissions.filter((at) => Number.isFinite(at)).sort((a, b) => a - b);
  let most = 0;
  let end = 0;
  for (let i = 0; i < times.length; i++) {
    while (end < times.length && (times[end] as number) < (times[i] as number) + window) end++;
    most = Math.max(most, end - i);
  }
  return most;
}

/** One line per violation, for an assertion message. */
export function describeRate(violations: readonly RateViolation[]): string {
  return violations.map((v) => JSON.stringify(v)).join('\n');
}

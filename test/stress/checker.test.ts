/** The stress checker must catch each kind of violation, or a green stress run proves nothing. */
import assert from 'node:assert/strict';
import { describe as suite, test } from 'node:test';
import { type CheckOptions, checkHistory, describe, type Hold } from '../helpers/checker.js';

const mutex = (expected: number, counter = expected): CheckOptions => ({
  capacity: 1,
  orderedFences: true,
  expected,
  counter,
});

const hold = (who: string, fence: number, start: number, end: number): Hold => ({
  fence: String(fence),
  start,
  end,
  who,
});

const kinds = (holds: readonly Hold[], options: CheckOptions): string[] =>
  checkHistory(holds, options).map((v) => v.kind);

suite('checkHistory', () => {
  test('accepts a clean mutex history, in any record order', () => {
    const holds = [hold('b', 20, 3, 4), hold('a', 10, 1, 2), hold('c', 30, 5.5, 9)];
    const violations = checkHistory(holds, mutex(3));
    assert.deepEqual(violations, [], describe(violations));
  });

  test('detects two holders overlapping', () => {
    const holds = [hold('a', 10, 1, 3), hold('b', 20, 2.5, 4)];
    const violations = checkHistory(holds, mutex(2));
    assert.deepEqual(
      violations.map((v) => v.kind),
      ['overlap'],
    );
    const overlap = violations[0];
    assert.ok(overlap?.kind === 'overlap');
    assert.equal(overlap.concurrent, 2);
    assert.equal(overlap.at, 2.5);
  });

  test('counts a hold that starts at the instant another ends as an overlap', () => {
    assert.deepEqual(kinds([hold('a', 10, 1, 2), hold('b', 20, 2, 3)], mutex(2)), ['overlap']);
  });

  test('detects a lost update', () => {
    const holds = [hold('a', 10, 1, 2), hold('b', 20, 3, 4)];
    assert.deepEqual(kinds(holds, mutex(2, 1)), ['lost-update']);
  });

  test('detects fences out of order, and a repeated fence', () => {
    assert.deepEqual(kinds([hold('a', 20, 1, 2), hold('b', 10, 3, 4)], mutex(2)), ['fence-order']);
    assert.deepEqual(kinds([hold('a', 10, 1, 2), hold('b', 10, 3, 4)], mutex(2)), ['fence-order']);
  });

  test('compares fences as big integers, not as text or doubles', () => {
    const big = 2n ** 60n;
    const holds: Hold[] = [
      { fence: String(big + 9n), start: 1, end: 2, who: 'a' },
      { fence: String(big + 10n), start: 3, end: 4, who: 'b' },
    ];
    assert.deepEqual(kinds(holds, mutex(2)), []);
  });

  test('detects missing holds and malformed intervals', () => {
    assert.deepEqual(kinds([hold('a', 10, 1, 2)], mutex(2, 1)), ['missing-holds', 'lost-update']);
    assert.deepEqual(kinds([hold('a', 10, 5, 4)], mutex(1)), ['bad-interval']);
  });

  test('allows up to capacity concurrent holds and no more', () => {
    const three = [hold('a', 1, 0, 10), hold('b', 2, 1, 10), hold('c', 3, 2, 10)];
    const semaphore = (n: number): CheckOptions => ({ capacity: 3, orderedFences: false, expected: n, counter: n });
    assert.deepEqual(kinds(three, semaphore(3)), []);
    const four = [...three, hold('d', 4, 9, 12)];
    assert.deepEqual(kinds(four, semaphore(4)), ['overlap']);
    // Once one of the three has left, a fourth fits.
    const later = [...three.slice(0, 2), hold('c', 3, 2, 5), hold('d', 4, 6, 12)];
    assert.deepEqual(kinds(later, semaphore(4)), []);
  });

  test('for a semaphore, accepts fences that disagree with start order but not duplicates', () => {
    const options: CheckOptions = { capacity: 3, orderedFences: false, expected: 2, counter: 2 };
    assert.deepEqual(kinds([hold('a', 20, 1, 3), hold('b', 10, 2, 4)], options), []);
    assert.deepEqual(kinds([hold('a', 10, 1, 3), hold('b', 10, 2, 4)], options), ['duplicate-fence']);
  });
});

/** The rate checker must catch an over-admission, or a green rate-limiter stress run proves nothing. */
import assert from 'node:assert/strict';
import { describe as suite, test } from 'node:test';
import { busiestWindow, checkRate, describeRate } from '../helpers/rate-checker.js';

const LIMIT = { limit: 3, window: 1000 };

/** `count` admissions starting at `from`, `step` ms apart. */
const burst = (from: number, count: number, step = 1): number[] =>
  Array.from({ length: count }, (_, i) => from + i * step);

const kinds = (ats: readonly number[]): string[] => checkRate(ats, LIMIT).map((v) => v.kind);

suite('checkRate', () => {
  test('accepts a full window, then another full window exactly one window later', () => {
    const ats = [...burst(5000, 3), ...burst(6000, 3)];
    const violations = checkRate(ats, LIMIT);
    assert.deepEqual(violations, [], describeRate(violations));
    assert.equal(busiestWindow(ats, 1000), 3);
  });

  test('detects one admission too many inside a window', () => {
    const violations = checkRate([...burst(5000, 3), 5999], LIMIT);
    assert.equal(violations.length, 1);
    const v = violations[0];
    assert.ok(v?.kind === 'over-limit');
    assert.equal(v.start, 5000);
    assert.equal(v.count, 4);
    assert.deepEqual(v.sample, [5000, 5001, 5002, 5999]);
  });

  test('windows are half-open: an admission at start + window is in the next one', () => {
    assert.deepEqual(kinds([5000, 5500, 5999, 6000]), []);
    assert.deepEqual(kinds([5000, 5500, 5999, 5999.5]), ['over-limit']);
  });

  test('finds a violating window that does not start at the first admission', () => {
    // [0] and [1000..] are fine alone; 1500, 1600, 1700, 2400 are four within 1000 ms.
    const ats = [0, 1500, 1600, 1700, 2400];
    const violations = checkRate(ats, LIMIT);
    assert.deepEqual(
      violations.map((v) => (v.kind === 'over-limit' ? [v.start, v.count] : v.kind)),
      [[1500, 4]],
    );
  });

  test('does not depend on the order the records arrive in (several processes, concatenated)', () => {
    const ats = [1700, 0, 2400, 1500, 1600];
    assert.deepEqual(kinds(ats), ['over-limit']);
    assert.equal(busiestWindow(ats, 1000), 4);
  });

  test('a steady stream at exactly the limit is clean; slightly faster is not', () => {
    // limit 3 per 1000 ms: one every 333.34 ms is fine, one every 333 ms puts 4 in [0, 1000).
    assert.deepEqual(kinds(burst(0, 30, 1000 / 3 + 0.01)), []);
    assert.ok(kinds(burst(0, 30, 333)).includes('over-limit'));
  });

  test('reports records that are not finite times', () => {
    assert.deepEqual(kinds([1, Number.NaN, 2]), ['bad-time']);
    assert.deepEqual(kinds([1, Number.POSITIVE_INFINITY]), ['bad-time']);
  });

  test('lists a bounded number of violations', () => {
    assert.equal(checkRate(burst(0, 100), LIMIT).length, 5);
  });

  test('an empty history is clean', () => {
    assert.deepEqual(checkRate([], LIMIT), []);
    assert.equal(busiestWindow([], 1000), 0);
  });
});

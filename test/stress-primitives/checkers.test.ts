/** The read-write and election checkers must catch each kind of violation, or a green run proves nothing. */
import assert from 'node:assert/strict';
import { describe as suite, test } from 'node:test';
import {
  checkRwHistory,
  checkTerms,
  describeViolations,
  mostConcurrent,
  type RwCheckOptions,
  type RwHold,
  type Term,
  validity,
} from './checkers.js';

const read = (who: string, fence: number, start: number, end: number): RwHold => ({
  kind: 'read',
  fence: String(fence),
  start,
  end,
  who,
});
const write = (who: string, fence: number, start: number, end: number): RwHold => ({
  ...read(who, fence, start, end),
  kind: 'write',
});

const options = (holds: readonly RwHold[], counter?: number): RwCheckOptions => {
  const writes = holds.filter((h) => h.kind === 'write').length;
  return { expected: holds.length, expectedWrites: writes, counter: counter ?? writes };
};

const rwKinds = (holds: readonly RwHold[], counter?: number): string[] =>
  checkRwHistory(holds, options(holds, counter)).map((v) => v.kind);

suite('checkRwHistory', () => {
  test('accepts overlapping readers between writes, with readers’ fences in any order', () => {
    const holds = [
      write('w1', 1, 0, 1),
      read('a', 3, 2, 5),
      read('b', 2, 2.5, 6),
      read('c', 4, 3, 4),
      write('w2', 5, 7, 8),
      read('a', 6, 9, 10),
    ];
    const violations = checkRwHistory(holds, options(holds));
    assert.deepEqual(violations, [], describeViolations(violations));
    assert.equal(mostConcurrent(holds, 'read'), 3);
    assert.equal(mostConcurrent(holds, 'write'), 1);
  });

  test('detects a reader inside a write, and a write that merely touches a reader', () => {
    assert.deepEqual(rwKinds([write('w', 1, 0, 10), read('r', 2, 5, 6)]), ['write-overlap']);
    assert.deepEqual(rwKinds([read('r', 1, 0, 5), write('w', 2, 5, 6)]), ['write-overlap']);
  });

  test('detects two overlapping writes, once per pair', () => {
    assert.deepEqual(rwKinds([write('a', 1, 0, 3), write('b', 2, 2, 4)]), ['write-overlap']);
  });

  test('detects fences that disagree with the order around a write', () => {
    assert.deepEqual(rwKinds([read('r', 5, 0, 1), write('w', 4, 2, 3)]), ['fence-order']);
    assert.deepEqual(rwKinds([write('w', 5, 0, 1), read('r', 4, 2, 3)]), ['fence-order']);
    assert.deepEqual(rwKinds([write('a', 5, 0, 1), write('b', 4, 2, 3)]), ['fence-order']);
  });

  test('detects a repeated fence', () => {
    assert.deepEqual(rwKinds([read('a', 1, 0, 2), read('b', 1, 1, 3)]), ['duplicate-fence']);
  });

  test('detects a lost update, missing holds and malformed intervals', () => {
    const holds = [write('a', 1, 0, 1), write('b', 2, 2, 3)];
    assert.deepEqual(rwKinds(holds, 1), ['lost-update']);
    const missing = checkRwHistory(holds, { expected: 3, expectedWrites: 3, counter: 3 }).map((v) => v.kind);
    assert.deepEqual(missing, ['missing-holds']);
    assert.deepEqual(rwKinds([read('a', 1, 2, 1)]), ['bad-interval']);
  });
});

const term = (who: string, fence: number, start: number, validEnd: number): Term => ({
  who,
  fence: String(fence),
  start,
  validEnd,
});

suite('checkTerms', () => {
  test('accepts leaders one after another with rising fences, in any record order', () => {
    const terms = [term('b', 20, 600, 900), term('a', 10, 0, 499.9), term('c', 30, 900.1, 1000)];
    assert.deepEqual(checkTerms(terms), []);
  });

  test('detects two candidates valid at once, including at a single shared instant', () => {
    assert.deepEqual(
      checkTerms([term('a', 1, 0, 500), term('b', 2, 450, 900)]).map((v) => v.kind),
      ['two-leaders'],
    );
    assert.deepEqual(
      checkTerms([term('a', 1, 0, 500), term('b', 2, 500, 900)]).map((v) => v.kind),
      ['two-leaders'],
    );
  });

  test('detects a new leader whose fence is not above the previous one', () => {
    assert.deepEqual(
      checkTerms([term('a', 2, 0, 1), term('b', 2, 2, 3)]).map((v) => v.kind),
      ['fence-order'],
    );
    assert.deepEqual(
      checkTerms([term('a', 3, 0, 1), term('b', 2, 2, 3)]).map((v) => v.kind),
      ['fence-order'],
    );
  });

  test('detects a term that ends before it starts', () => {
    assert.deepEqual(
      checkTerms([term('a', 1, 5, 4)]).map((v) => v.kind),
      ['bad-interval'],
    );
  });
});

suite('validity', () => {
  const base = { who: 'a', fence: '7', start: 100 };

  test('a stopped leader is valid until its local deadline, not until it noticed the loss', () => {
    assert.equal(validity({ ...base, deadline: 590, endAt: 1400, invalidAt: 1399 }).validEnd, 590);
  });

  test('a leader that resigned is valid until it resigned', () => {
    assert.equal(validity({ ...base, deadline: 590, endAt: 300, invalidAt: null }).validEnd, 300);
  });

  test('a leader still leading is valid until its deadline, or until it was first seen invalid', () => {
    assert.equal(validity({ ...base, deadline: 590, endAt: null, invalidAt: null }).validEnd, 590);
    assert.equal(validity({ ...base, deadline: 590, endAt: null, invalidAt: 400 }).validEnd, 400);
  });

  test('feeds checkTerms: a stopped leader whose deadline is past the next grant is caught', () => {
    const stopped = validity({ ...base, deadline: 700, endAt: 1400, invalidAt: 1399 });
    const next = validity({ who: 'b', fence: '8', start: 650, deadline: 1100, endAt: 1000, invalidAt: null });
    assert.deepEqual(
      checkTerms([stopped, next]).map((v) => v.kind),
      ['two-leaders'],
    );
  });
});

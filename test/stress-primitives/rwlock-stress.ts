/**
 * The read-write lock stress run: mostly-readers and mostly-writers in separate processes
 * (rw-worker.ts) on one lock; no write overlaps any other hold, the writers' non-atomic counter
 * loses no update (checkRwHistory), and readers really shared the lock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message } from '../helpers/child.js';
import { checkRwHistory, describeViolations, mostConcurrent, type RwHold } from './checkers.js';
import type { StressEngine } from './engine.js';
import { runWorkers, sum, TEST_TIMEOUT } from './run-workers.js';
import { isWrite, RW_WORKER, rwKeys } from './shared.js';

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

export function rwlockStress(engine: StressEngine): void {
  test(`rwlock: ${RW_SHARES.length} processes × ${RW_ITERATIONS} acquisitions, no write overlaps anything`, {
    timeout: TEST_TIMEOUT,
  }, async (t) => {
    const w = await engine.world(t);
    const name = 'stress-rw';
    const argsList = RW_SHARES.map((share, i) => {
      const who = share < 0.5 ? `reader${i}` : `writer${i}`;
      return [w.url, w.witness.url, w.prefix, name, String(RW_ITERATIONS), String(share), who];
    });
    const { done, ms } = await runWorkers<RwDone>(w, RW_WORKER, argsList, () => ({ type: 'go' }));
    const holds = done.flatMap((d) => d.holds);
    const expectedWrites = sum(
      RW_SHARES.map(
        (share) => Array.from({ length: RW_ITERATIONS }, (_, i) => isWrite(i, share)).filter(Boolean).length,
      ),
    );
    t.diagnostic(`rwlock: ${holds.length} acquisitions (${expectedWrites} writes) in ${Math.round(ms)} ms`);

    const { admin } = w.witness;
    const counter = Number(await admin.get(rwKeys(w.prefix).counter));
    const violations = checkRwHistory(holds, { expected: RW_SHARES.length * RW_ITERATIONS, expectedWrites, counter });
    assert.deepEqual(violations, [], `the history has violations:\n${describeViolations(violations)}`);
    const total = (key: keyof RwDone['stats']): number => sum(done.map((d) => d.stats[key]));
    assert.equal(total('writerSawReaders'), 0, 'no writer saw a reader inside (server-side witness)');
    assert.equal(total('tornReads'), 0, 'no reader saw the counter change during its hold');
    assert.equal(total('lost'), 0, 'no lease was lost inside its critical section');
    assert.equal(total('releasedFalse'), 0, 'every write release found its lease still held');
    assert.equal(Number(await admin.get(rwKeys(w.prefix).readers)), 0, 'every reader left');
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
}

/**
 * The one-timer command deadlines of the Redis backend (src/backends/redis/deadlines.ts): a
 * command without a reply in time is given up on, whatever the commands around it do, and a
 * reply that comes in time passes through unchanged. No Redis needed; no timing is asserted
 * beyond "it timed out".
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { CommandTimedOut, Deadlines } from '../src/backends/redis/deadlines.js';

// The deadlines' timer is unref'd (a connection's socket keeps a real process alive): this does.
let alive: NodeJS.Timeout | undefined;
before(() => {
  alive = setInterval(() => {}, 1000);
});
after(() => clearInterval(alive));

const never = (): Promise<never> => new Promise<never>(() => {});
const later = <T>(value: T, ms: number): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));

it('passes replies and errors through, and times out a command that gets no reply', async () => {
  const deadlines = new Deadlines(50);
  assert.equal(await deadlines.bound(Promise.resolve(1)), 1);
  await assert.rejects(deadlines.bound(Promise.reject(new Error('refused'))), /refused/);
  await assert.rejects(deadlines.bound(never()), (error: unknown) => {
    assert.ok(error instanceof CommandTimedOut);
    assert.match(error.message, /timed out after 50 ms/);
    return true;
  });
});

it('times out each lost command, however many were answered before, between and after it', async () => {
  const deadlines = new Deadlines(60);
  const first = deadlines.bound(never());
  const answered = deadlines.bound(later('a', 5));
  // sent after the timer was armed for `first`: its own deadline is later than the first's
  await later(null, 20);
  const second = deadlines.bound(never());
  const behind = deadlines.bound(Promise.resolve('b'));
  assert.equal(await answered, 'a');
  assert.equal(await behind, 'b');
  await assert.rejects(first, CommandTimedOut);
  await assert.rejects(second, CommandTimedOut);
  // the list emptied: a command sent now is bounded again
  await assert.rejects(deadlines.bound(never()), CommandTimedOut);
  assert.equal(await deadlines.bound(later('c', 5)), 'c');
});

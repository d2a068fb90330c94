/**
 * `lease.valid` never turns true again once the local deadline passed, even when a renewal's
 * confirmation is processed before the deadline timer (a stalled loop can order them so).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Backend } from '../src/backend.js';
import type { LeaseHost } from '../src/engine/lease.js';
import { Lease, LeaseLostError } from '../src/index.js';
import type { Clock } from '../src/util/clock.js';

it('a confirmation after the deadline ends the lease instead of reviving it', () => {
  let now = 0;
  // Timers never fire here: this is the stalled loop in which the confirmation runs first.
  const clock: Clock = { now: () => now, wallMicros: () => now * 1000, setTimer: () => ({ cancel() {} }) };
  let released = 0;
  const backend = {
    release: async () => {
      released++;
      return true;
    },
  } as unknown as Backend;
  const host: LeaseHost = {
    backend,
    clock,
    scheduleRenewal() {},
    cancelRenewal() {},
    ended() {},
    inFlight() {},
  };
  const grant = { name: 'n', token: 't', fence: 1n, permits: 1, ttl: 1000, autoExtend: true, requestedAt: 0 };
  const lease = new Lease(host, grant);
  assert.equal(lease.valid, true);
  now = 995; // past the deadline of 1000 - drift (12 ms)
  assert.equal(lease.valid, false);
  lease.confirm(300); // a renewal sent at 300, answered now
  assert.equal(lease.valid, false, 'still invalid');
  assert.ok(lease.signal.reason instanceof LeaseLostError);
  assert.equal(released, 1, 'and the backend entry is freed for others');
});

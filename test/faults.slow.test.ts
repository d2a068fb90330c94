/**
 * Injected faults on a real redis-server, one server per test: a holder killed or frozen, the
 * server restarted empty, the wake-up connection dropped, the script cache flushed, a reply
 * lost. Nothing here sleeps and hopes: every step waits on an event (an IPC message, an abort,
 * a promise) or, where no event exists, polls a condition, each with a deadline.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Holdfast, HoldfastError, type Lease, LeaseLostError } from '../src/index.js';
import { fencedWrite, readResource } from './faults/fenced-resource.js';
import { subscribers, wallNow, world } from './faults/world.js';
import type { Message } from './helpers/child.js';
import { untilQueued } from './helpers/queue.js';
import { aborted, waitFor, withTimeout } from './helpers/wait.js';

const HOLDER = new URL('./faults/holder.ts', import.meta.url);
/** Short, so the faults play out quickly; long enough for a renewal round trip on a busy machine. */
const CHILD_TTL = 500;

interface Acquired extends Message {
  readonly fence: string;
}

interface ErrorInfo {
  readonly leaseLost: boolean;
  readonly name: string;
  readonly code: string | null;
}

interface Checked extends Message {
  readonly valid: boolean;
  readonly abortedAtCheck: boolean;
  readonly reason: ErrorInfo;
  readonly extend: { readonly resolved: true } | ({ readonly resolved: false } & ErrorInfo);
  readonly wrote: boolean;
}

/**
 * Waits until the server shows the holder of `name` renewed (its expiry moved later) and returns
 * a shared-clock time the renewal ran after, so the renewed lease lasts at least until then + TTL.
 */
async function renewal(hf: Holdfast, name: string): Promise<number> {
  let last = { expiresIn: Number.POSITIVE_INFINITY, sentAt: 0 };
  let renewedAfter = 0;
  await waitFor(
    async () => {
      const sentAt = wallNow();
      const expiresIn = (await hf.inspect(name))?.holders[0]?.expiresIn ?? 0;
      if (expiresIn > last.expiresIn) renewedAfter = last.sentAt;
      last = { expiresIn, sentAt };
      return renewedAfter > 0;
    },
    { what: `a renewal of "${name}"` },
  );
  return renewedAfter;
}

test('a SIGKILLed holder: the waiter already in line gets the lock once the lease expires', async (t) => {
  const w = await world(t);
  const hf = await w.client();
  const child = await w.spawn(HOLDER, [w.redis.url, w.prefix, 'killed', String(CHILD_TTL), 'unused']);
  const held = await child.next<Acquired>('acquired');

  const waiting = hf.mutex('killed', { ttl: 5000 }).acquire({ wait: 20_000 });
  await untilQueued(hf, 'killed', 1, 'the waiter to be queued');
  const renewedAfter = await renewal(hf, 'killed');
  await child.kill();
  const killedAt = wallNow();
  // For the diagnostic only: when the server will expire the dead holder's lease.
  const expiresIn = (await hf.inspect('killed'))?.holders[0]?.expiresIn;
  const lease = await withTimeout(waiting, 10_000, 'the waiter to get the lock of a killed holder');
  const grantedAt = wallNow();

  assert.ok(lease.valid);
  assert.ok(lease.fence > BigInt(held.fence), 'the new fence is above the dead holder’s');
  // Coarse sanity, not speed: the server cannot have freed it before the renewed lease ran out.
  assert.ok(
    grantedAt >= renewedAfter + CHILD_TTL,
    `granted ${(grantedAt - renewedAfter).toFixed(1)} ms after the holder's lease was renewed, within its TTL`,
  );
  const free = Math.round(grantedAt - killedAt);
  t.diagnostic(`free ${free} ms after SIGKILL; the server expected the lease to expire ${expiresIn} ms after it`);
  assert.equal(await lease.release(), true);
});

test('a holder SIGSTOPped past its TTL learns on resume that it lost, and its fence is refused', async (t) => {
  const w = await world(t);
  const hf = await w.client();
  const resource = `${w.prefix}test:resource`;
  const child = await w.spawn(HOLDER, [w.redis.url, w.prefix, 'stopped', String(CHILD_TTL), resource]);
  const held = await child.next<Acquired>('acquired');
  assert.equal(await fencedWrite(w.admin, resource, BigInt(held.fence), 'first holder'), true);

  child.signal('SIGSTOP');
  // Granted when the frozen holder's lease expires on the server: the waiter retries then.
  const lease = await withTimeout(
    hf.mutex('stopped', { ttl: 5000 }).acquire({ wait: 20_000 }),
    10_000,
    'the lock of a stopped holder',
  );
  assert.ok(lease.fence > BigInt(held.fence));
  assert.equal(await fencedWrite(w.admin, resource, lease.fence, 'second holder'), true);

  child.signal('SIGCONT');
  child.send({ type: 'check' });
  const checked = await child.next<Checked>('checked');
  t.diagnostic(`on resume: signal already aborted when checked: ${checked.abortedAtCheck}`);
  assert.equal(checked.valid, false, 'lease.valid is false on resume');
  assert.deepEqual(checked.reason, { leaseLost: true, name: 'LeaseLostError', code: 'LEASE_LOST' });
  assert.deepEqual(checked.extend, { resolved: false, leaseLost: true, name: 'LeaseLostError', code: 'LEASE_LOST' });
  assert.equal(checked.wrote, false, 'the fenced resource refused the stale fence');
  assert.deepEqual(await readResource(w.admin, resource), { fence: lease.fence.toString(), value: 'second holder' });
  assert.equal(await lease.release(), true);
});

test('redis-server restarted empty: holders are told they lost, new fences are above every old one', async (t) => {
  const w = await world(t);
  const hf = await w.client();
  const mutexes = ['restart:a', 'restart:b'].map((name) => hf.mutex(name, { ttl: 1000 }));
  const semaphore = hf.semaphore('restart:c', { permits: 2, ttl: 1000 });
  const old: Lease[] = [];
  let highest = 0n;
  for (const lock of [...mutexes, semaphore, semaphore]) {
    const lease = await lock.tryAcquire();
    assert.ok(lease !== null);
    old.push(lease);
    if (lease.fence > highest) highest = lease.fence;
  }

  await w.redis.restart();
  const reasons = await withTimeout(
    Promise.all(old.map((lease) => aborted(lease.signal))),
    10_000,
    'every lease signal to abort',
  );
  for (const reason of reasons) {
    assert.ok(reason instanceof LeaseLostError, `aborted with ${String(reason)}`);
    assert.equal(reason.code, 'LEASE_LOST');
  }
  assert.ok(old.every((lease) => !lease.valid));

  const fresh = await withTimeout(
    Promise.all([...mutexes, semaphore].map((lock) => lock.acquire({ wait: 10_000 }))),
    15_000,
    'new grants after the restart',
  );
  for (const lease of fresh) {
    assert.ok(lease.fence > highest, `new fence ${lease.fence} is above every old one (${highest})`);
  }
  await Promise.all(fresh.map((lease) => lease.release()));
});

test('the wake-up connection dropped while a waiter is queued: the waiter still gets the lock', async (t) => {
  const w = await world(t);
  const hf = await w.client({ waiterTtl: 600 });
  const mutex = hf.mutex('dropped', { ttl: 5000 });
  const holder = await mutex.tryAcquire();
  assert.ok(holder !== null);
  const waiting = mutex.acquire({ wait: 20_000 });
  await untilQueued(hf, 'dropped', 1, 'the waiter to be queued');

  const before = await subscribers(w.admin);
  assert.equal(before.length, 1, 'one subscriber connection per client');
  await w.admin.call('CLIENT', 'KILL', 'ID', before[0] ?? '');
  assert.equal(await holder.release(), true);

  const lease = await withTimeout(waiting, 10_000, 'the waiter after its subscriber was dropped');
  assert.ok(lease.fence > holder.fence);
  await waitFor(
    async () => {
      const now = await subscribers(w.admin);
      return now.length === 1 && now[0] !== before[0];
    },
    { what: 'the subscriber to come back, once' },
  );
  assert.equal(await lease.release(), true);
});

test('SCRIPT FLUSH while connected: acquire, extend, renewal, release and hand-off reload their scripts', async (t) => {
  const w = await world(t);
  const hf = await w.client();
  const other = await w.client();
  const flush = () => w.admin.call('SCRIPT', 'FLUSH');
  const mutex = hf.mutex('flushed', { ttl: 600 });

  await flush();
  const lease = await mutex.tryAcquire();
  assert.ok(lease !== null, 'tryAcquire after a flush');
  await flush();
  await lease.extend();
  assert.ok(lease.valid, 'extend after a flush');

  // Automatic renewal (a pipeline of EVALSHAs) after a flush: the server-side expiry moves on.
  await flush();
  await renewal(hf, 'flushed');
  assert.ok(lease.valid && !lease.signal.aborted, 'the renewed lease still holds');

  const waiting = other.mutex('flushed', { ttl: 600 }).acquire({ wait: 10_000 });
  await untilQueued(hf, 'flushed', 1, 'the waiter to be queued');
  await flush();
  assert.equal(await lease.release(), true, 'release after a flush');
  const next = await withTimeout(waiting, 5000, 'the hand-off after a flush');
  assert.ok(next.fence > lease.fence);
  await flush();
  assert.equal(await next.release(), true);
});

for (const how of ['tryAcquire', 'acquire'] as const) {
  test(`a lost ${how} reply leaves no phantom holder`, async (t) => {
    const w = await world(t);
    // Replies later than this are given up on: the command has still reached the server.
    const hf = await w.client({ commandTimeout: 200 });
    const other = await w.client();
    const name = `lost-${how}`;
    const mutex = hf.mutex(name, { ttl: 60_000 });
    // Load the scripts, so the paused EVALSHAs find them when they finally run.
    const warm = await hf.mutex('warm-up').tryAcquire();
    assert.equal(await warm?.release(), true);

    // Write commands (every script) now wait in the server until UNPAUSE.
    await w.admin.call('CLIENT', 'PAUSE', '30000', 'WRITE');
    let unpaused = false;
    t.after(async () => {
      if (!unpaused) await w.admin.call('CLIENT', 'UNPAUSE').catch(() => {});
    });
    const attempt = how === 'tryAcquire' ? mutex.tryAcquire() : mutex.acquire({ wait: 10_000 });
    const error = await withTimeout(
      attempt.then(
        () => null,
        (e: unknown) => e,
      ),
      5000,
      `${how} to give up on its reply`,
    );
    assert.ok(error instanceof HoldfastError && error.code === 'BACKEND', `${how} rejected with ${String(error)}`);
    await w.admin.call('CLIENT', 'UNPAUSE');
    unpaused = true;

    // The grant happened after all: a name's fence is written only when something is granted.
    const data = `${w.prefix}{${name}}:d`;
    await waitFor(async () => (await w.admin.hget(data, 'fence')) !== null, {
      what: 'the paused acquire to run on the server',
    });
    // The clean-up release ran right behind it: the lock is free long before the phantom's TTL.
    const lease = await withTimeout(
      other.mutex(name, { ttl: 5000 }).acquire({ wait: 5000 }),
      10_000,
      `the lock after a lost ${how} reply`,
    );
    assert.equal((await other.inspect(name))?.holders.length, 1);
    assert.equal(await lease.release(), true);
  });
}

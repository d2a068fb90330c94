/**
 * What a backend declares: each optional capability is there exactly when declared, what is not
 * declared is refused at once by the primitives and recipes that need it (UnsupportedError), and
 * the wake-ups keep the promise of `capabilities.wakeups`.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type Backend, LOCK_KINDS, type LockKind, RATE_ALGORITHMS } from '../../src/backend.js';
import { Holdfast } from '../../src/client.js';
import { ClientCore } from '../../src/engine/core.js';
import { UnsupportedError } from '../../src/errors.js';
import { cached } from '../../src/recipes/index.js';
import { realClock } from '../../src/util/clock.js';
import { type BackendEngineFactory, newName, newToken, request, useEngine } from './backend-support.js';
import { turns } from './support.js';

/** A client over `backend` as connect() builds one; only used to construct primitives here. */
function clientOver(backend: Backend): Holdfast {
  return new Holdfast(new ClientCore(backend, realClock, 6000));
}

function unsupported(backend: Backend, capability: string): (error: unknown) => boolean {
  return (error) =>
    error instanceof UnsupportedError &&
    error.code === 'UNSUPPORTED' &&
    error.backend === backend.label &&
    error.capability === capability;
}

const PRIMITIVE: Readonly<Record<LockKind, (hf: Holdfast, name: string) => unknown>> = {
  mutex: (hf, name) => hf.mutex(name),
  semaphore: (hf, name) => hf.semaphore(name, { permits: 2 }),
  rwlock: (hf, name) => hf.rwlock(name),
  election: (hf, name) => hf.election(name),
};

export function capabilitiesSuite(factory: BackendEngineFactory): void {
  const world = useEngine(factory);

  it('declares what it has: each optional capability is present exactly when declared', async () => {
    const { backend, clientId } = await world().open();
    const caps = backend.capabilities;
    assert.ok(backend.label.length > 0);
    assert.equal(backend.clientId, clientId);
    assert.ok(caps.locks.includes('mutex'), 'the required core holds a mutex');
    for (const kind of caps.locks) assert.ok(LOCK_KINDS.includes(kind), kind);
    assert.ok(['grant', 'wake', 'poll'].includes(caps.wakeups));
    for (const algorithm of caps.rateAlgorithms) assert.ok(RATE_ALGORITHMS.includes(algorithm), algorithm);
    assert.equal(backend.rates !== undefined, caps.rateAlgorithms.length > 0, 'rates');
    assert.equal(backend.events !== undefined, caps.events, 'events');
    assert.equal(backend.values !== undefined, caps.values, 'values');
    assert.equal(backend.replicas !== undefined, caps.replicas === true, 'replicas');
  });

  it('what it does not declare is refused at once with UnsupportedError; what it declares is not', async () => {
    const { backend } = await world().open();
    const caps = backend.capabilities;
    const hf = clientOver(backend);
    for (const kind of LOCK_KINDS) {
      const make = (): unknown => PRIMITIVE[kind](hf, newName());
      if (caps.locks.includes(kind)) make();
      else assert.throws(make, unsupported(backend, kind), kind);
    }
    for (const algorithm of RATE_ALGORITHMS) {
      const make = (): unknown => hf.rateLimiter(newName(), { limit: 2, window: 1000, algorithm });
      if (caps.rateAlgorithms.includes(algorithm)) make();
      else assert.throws(make, unsupported(backend, caps.rateAlgorithms.length > 0 ? `rates:${algorithm}` : 'rates'));
    }
    const watch = (): unknown => hf.watch(`${newName()}*`);
    if (!caps.events) assert.throws(watch, unsupported(backend, 'events'));
    const replicated = (): unknown => hf.mutex(newName(), { waitReplicas: 1 });
    if (caps.replicas === true) replicated();
    else assert.throws(replicated, unsupported(backend, 'replicas'));
    const cache = cached(hf, newName(), () => 1, { ttl: 60_000 });
    if (caps.values) assert.equal(await cache, 1);
    else await assert.rejects(cache, unsupported(backend, 'values'));
  });

  it('wake-ups: a hand-off reaches the waiting client as its declared kind promises', async () => {
    const [a, b] = await world().openMany(2);
    const name = newName();
    const holder = newToken();
    const waiter = newToken();
    await a.backend.acquire(request(name, holder));
    const queued = await b.backend.acquire(request(name, waiter, { enqueue: true }));
    assert.ok(!queued.granted);
    await a.backend.release(name, holder);
    const fence = (await a.backend.inspect(name))?.holders[0]?.fence;
    const mode = b.backend.capabilities.wakeups;
    if (mode === 'poll') {
      // Nothing is pushed: the waiter learns its turn by asking.
      await turns(10);
      assert.deepEqual(b.wakes, []);
      assert.deepEqual(await b.backend.acquire(request(name, waiter, { enqueue: true })), { granted: true, fence });
      return;
    }
    // A backend may tell a waiter to ask again before the hand-off reaches it (a Redis Cluster
    // client does when its shard subscription for the name becomes active: the ask marks the
    // waiter's address); on 'grant' the hand-off is the wake-up that carries the grant.
    const wake = await b.wake(waiter, (w) => mode !== 'grant' || w.grant !== null);
    if (mode === 'wake') {
      assert.equal(wake.grant, null);
      return;
    }
    // 'grant': the wake-up carries the grant, and the backend's time of it in integer µs on the
    // clock of the queued acquire's serverTime.
    assert.ok(wake.grant);
    assert.equal(wake.grant.fence, fence);
    assert.ok(Number.isSafeInteger(wake.grant.serverTime), `serverTime ${wake.grant.serverTime}`);
    assert.ok(queued.serverTime !== null && Number.isSafeInteger(queued.serverTime));
    assert.ok(wake.grant.serverTime >= queued.serverTime, 'the grant came after the queued acquire');
    // 10 s of real time at most lies between them (µs, not ms or s).
    assert.ok(wake.grant.serverTime - queued.serverTime < 10_000_000);
  });
}

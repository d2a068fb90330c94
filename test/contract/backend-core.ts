/** The required core of every backend: acquire-or-enqueue, release, extend, inspect, list, forceRelease. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  type BackendEngineFactory,
  LONG,
  lacksKind,
  newName,
  newToken,
  PAST_SHORT,
  request,
  SHORT,
  useEngine,
} from './backend-support.js';

export function coreSuite(factory: BackendEngineFactory): void {
  const world = useEngine(factory);

  it('acquire grants a free name with a fence; inspect shows the holder', async () => {
    const { backend } = await world().open();
    const name = newName();
    const owner = { host: 'a', pid: 1 };
    const result = await backend.acquire(request(name, newToken(), { ttl: LONG, owner: JSON.stringify(owner) }));
    assert.equal(result.granted, true);
    assert.ok(result.granted && result.fence > 0n);
    const state = await backend.inspect(name);
    assert.ok(state);
    assert.equal(state.name, name);
    assert.equal(state.kind, 'mutex');
    assert.equal(state.limit, 1);
    assert.equal(state.holders.length, 1);
    const [holder] = state.holders;
    assert.equal(holder?.fence, result.granted ? result.fence : null);
    assert.equal(holder?.permits, 1);
    assert.ok((holder?.expiresIn ?? 0) > LONG - 10_000 && (holder?.expiresIn ?? 0) <= LONG);
    assert.deepEqual(holder?.owner, owner);
    assert.deepEqual(state.waiters, []);
  });

  it('a try on a held name is refused and not queued; with enqueue it queues in order', async () => {
    const [a, b] = await world().openMany(2);
    const name = newName();
    assert.equal((await a.backend.acquire(request(name, newToken()))).granted, true);
    const tried = await b.backend.acquire(request(name, newToken()));
    assert.deepEqual(
      { ...tried, serverTime: null },
      { granted: false, position: -1, retryAfter: null, serverTime: null },
    );
    const first = await b.backend.acquire(request(name, newToken(), { enqueue: true, owner: '"first"' }));
    const second = await a.backend.acquire(request(name, newToken(), { enqueue: true, owner: '"second"' }));
    assert.ok(!first.granted && !second.granted);
    assert.equal(first.position, 0);
    assert.equal(second.position, 1);
    // Only the head is told when the earliest holder expires.
    assert.ok(first.retryAfter !== null && first.retryAfter > 0 && first.retryAfter <= LONG);
    assert.equal(second.retryAfter, null);
    // The backend's clock at the decision, which a 'grant' wake-up is placed against; a backend
    // whose wake-ups carry no grant may have no single clock to name (a quorum of N nodes).
    if (a.backend.capabilities.wakeups === 'grant') assert.equal(typeof first.serverTime, 'number');
    else assert.ok(first.serverTime === null || typeof first.serverTime === 'number');
    const state = await a.backend.inspect(name);
    assert.deepEqual(
      state?.waiters.map((w) => w.owner),
      ['first', 'second'],
    );
  });

  it('acquire is idempotent per token: a holder gets its fence back and its TTL re-armed', async () => {
    const { backend } = await world().open();
    const name = newName();
    const token = newToken();
    const first = await backend.acquire(request(name, token, { ttl: LONG }));
    await world().engine.advance(SHORT);
    const again = await backend.acquire(request(name, token, { ttl: LONG }));
    assert.deepEqual(again, first);
    const state = await backend.inspect(name);
    assert.equal(state?.holders.length, 1);
    assert.ok((state?.holders[0]?.expiresIn ?? 0) > LONG - SHORT);
  });

  it('a queued token asking again keeps its place and is not queued twice', async () => {
    const [a, b] = await world().openMany(2);
    const name = newName();
    await a.backend.acquire(request(name, newToken()));
    const early = newToken();
    const late = newToken();
    await b.backend.acquire(request(name, early, { enqueue: true }));
    await b.backend.acquire(request(name, late, { enqueue: true }));
    const refreshed = await b.backend.acquire(request(name, early, { enqueue: true }));
    assert.ok(!refreshed.granted);
    assert.equal(refreshed.position, 0);
    assert.equal((await a.backend.inspect(name))?.waiters.length, 2);
  });

  it('release frees only its own token: false for a stranger, a waiter leaves, the holder stays', async () => {
    const [a, b] = await world().openMany(2);
    const name = newName();
    const holder = newToken();
    const waiter = newToken();
    const held = await a.backend.acquire(request(name, holder));
    await b.backend.acquire(request(name, waiter, { enqueue: true }));
    assert.equal(await b.backend.release(name, newToken()), false);
    assert.equal(await b.backend.release(name, waiter), false, 'a waiter that leaves did not hold');
    const state = await a.backend.inspect(name);
    assert.deepEqual(
      state?.holders.map((h) => h.fence),
      [held.granted ? held.fence : -1n],
    );
    assert.deepEqual(state?.waiters, []);
    assert.equal(await b.backend.release(newName(), holder), false, 'an unknown name');
    assert.equal(await a.backend.release(name, holder), true);
    assert.equal(await a.backend.release(name, holder), false, 'released twice');
    assert.equal(await a.backend.inspect(name), null);
  });

  it('extend re-arms a holder and refuses anyone else', async () => {
    const [a, b] = await world().openMany(2);
    const name = newName();
    const holder = newToken();
    const waiter = newToken();
    await a.backend.acquire(request(name, holder, { ttl: 5000 }));
    await b.backend.acquire(request(name, waiter, { enqueue: true }));
    assert.equal(await a.backend.extend({ name, token: holder, ttl: LONG }), true);
    const expiresIn = (await a.backend.inspect(name))?.holders[0]?.expiresIn ?? 0;
    assert.ok(expiresIn > LONG - 10_000, `re-armed to ${expiresIn}`);
    assert.equal(await b.backend.extend({ name, token: waiter, ttl: LONG }), false);
    assert.equal(await b.backend.extend({ name, token: newToken(), ttl: LONG }), false);
    assert.equal(await b.backend.extend({ name: newName(), token: holder, ttl: LONG }), false);
    await a.backend.release(name, holder);
    assert.equal(await a.backend.extend({ name, token: holder, ttl: LONG }), false);
  });

  it('extendMany answers in request order', async () => {
    const { backend } = await world().open();
    const [x, y] = [newName(), newName()];
    const [tx, ty] = [newToken(), newToken()];
    await backend.acquire(request(x, tx));
    await backend.acquire(request(y, ty));
    assert.deepEqual(await backend.extendMany([]), []);
    const results = await backend.extendMany([
      { name: x, token: tx, ttl: LONG },
      { name: x, token: newToken(), ttl: LONG },
      { name: y, token: ty, ttl: LONG },
      { name: newName(), token: tx, ttl: LONG },
      { name: y, token: tx, ttl: LONG },
    ]);
    assert.deepEqual(results, [true, false, true, false, false]);
  });

  it('inspect is null for a name nobody holds or waits for', async () => {
    const { backend } = await world().open();
    const name = newName();
    assert.equal(await backend.inspect(name), null);
    const token = newToken();
    await backend.acquire(request(name, token));
    await backend.release(name, token);
    assert.equal(await backend.inspect(name), null);
  });

  it('list matches live names with * and ?, sorted; released names drop out', async () => {
    const [a, b] = await world().openMany(2);
    const base = newName('list');
    const names = [`${base}:a1`, `${base}:a2`, `${base}:b1`];
    const tokens = names.map(() => newToken());
    for (const [i, name] of names.entries()) await a.backend.acquire(request(name, tokens[i] as string));
    // A name with only a waiter is live too.
    const queuedName = `${base}:a3`;
    await a.backend.acquire(request(queuedName, newToken()));
    assert.deepEqual(await b.backend.list(`${base}:*`), [...names, queuedName].sort());
    assert.deepEqual(await b.backend.list(`${base}:a?`), [`${base}:a1`, `${base}:a2`, queuedName]);
    assert.deepEqual(await b.backend.list(`${base}:b*`), [`${base}:b1`]);
    await a.backend.release(`${base}:a1`, tokens[0] as string);
    assert.deepEqual(await b.backend.list(`${base}:a?`), [`${base}:a2`, queuedName]);
    assert.deepEqual(await b.backend.list(`${newName('none')}*`), []);
  });

  it('forceRelease removes every holder, counts them, and serves the queue', async (t) => {
    const [a, b] = await world().openMany(2);
    if (lacksKind(t, a.backend, 'semaphore')) return;
    const name = newName();
    const sem = { kind: 'semaphore' as const, limit: 2 };
    await a.backend.acquire(request(name, newToken(), sem));
    await a.backend.acquire(request(name, newToken(), sem));
    const waiter = newToken();
    await b.backend.acquire(request(name, waiter, { ...sem, permits: 2, enqueue: true }));
    assert.equal(await a.backend.forceRelease(name), 2);
    const state = await a.backend.inspect(name);
    assert.deepEqual(
      state?.holders.map((h) => h.permits),
      [2],
    );
    assert.deepEqual(state?.waiters, []);
    assert.equal(await a.backend.forceRelease(newName()), 0);
  });

  it('a lease runs out at its TTL; then it no longer extends and others can take the name', async () => {
    const [a, b] = await world().openMany(2);
    const name = newName();
    const token = newToken();
    await a.backend.acquire(request(name, token, { ttl: SHORT }));
    await world().engine.advance(PAST_SHORT);
    assert.equal(await a.backend.extend({ name, token, ttl: LONG }), false);
    assert.equal((await b.backend.acquire(request(name, newToken()))).granted, true);
  });
}

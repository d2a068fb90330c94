/** The queue: FIFO without overtaking, hand-off with its claim window, waiter expiry, fences. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { waitFor } from '../helpers/wait.js';
import {
  type BackendEngineFactory,
  EVENT,
  increasing,
  LONG,
  lacksKind,
  newName,
  newToken,
  PAST_SHORT,
  request,
  SHORT,
  useEngine,
} from './backend-support.js';

export function queueSuite(factory: BackendEngineFactory): void {
  const world = useEngine(factory);

  it('strict FIFO: a small request never overtakes a large head that does not fit', async (t) => {
    const [a, b, c] = await world().openMany(3);
    if (lacksKind(t, a.backend, 'semaphore')) return;
    const name = newName();
    const sem = (permits: number) => ({ kind: 'semaphore' as const, limit: 3, permits });
    const first = newToken();
    assert.equal((await a.backend.acquire(request(name, first, sem(2)))).granted, true);
    const large = newToken();
    const small = newToken();
    const queuedLarge = await b.backend.acquire(request(name, large, { ...sem(3), enqueue: true }));
    // One permit is free and the small request fits, but the large head came first.
    const queuedSmall = await c.backend.acquire(request(name, small, { ...sem(1), enqueue: true }));
    assert.ok(!queuedLarge.granted && !queuedSmall.granted);
    assert.deepEqual([queuedLarge.position, queuedSmall.position], [0, 1]);
    const tryNow = await c.backend.acquire(request(name, newToken(), sem(1)));
    assert.equal(tryNow.granted, false, 'a try does not jump the queue either');
    assert.equal(await a.backend.release(name, first), true);
    // The large head got all three permits; the small one still waits behind it.
    let state = await a.backend.inspect(name);
    assert.deepEqual(
      state?.holders.map((h) => h.permits),
      [3],
    );
    assert.deepEqual(
      state?.waiters.map((w) => w.permits),
      [1],
    );
    // Once the large grant is released, the small waiter is served.
    assert.equal(await b.backend.release(name, large), true);
    state = await a.backend.inspect(name);
    assert.deepEqual(
      state?.holders.map((h) => h.permits),
      [1],
    );
    assert.deepEqual(state?.waiters, []);
  });

  it('a release hands the name to the head of the queue; its acquire then returns the same fence', async () => {
    const [a, b] = await world().openMany(2);
    const name = newName();
    const holder = newToken();
    const waiter = newToken();
    const held = await a.backend.acquire(request(name, holder));
    await b.backend.acquire(request(name, waiter, { enqueue: true }));
    assert.equal(await a.backend.release(name, holder), true);
    const state = await b.backend.inspect(name);
    assert.equal(state?.holders.length, 1);
    const handed = state?.holders[0]?.fence ?? 0n;
    assert.ok(held.granted && handed > held.fence);
    // Asking again with the same token recognises the grant and re-arms the full TTL.
    const confirmed = await b.backend.acquire(request(name, waiter, { enqueue: true, ttl: LONG }));
    assert.deepEqual(confirmed, { granted: true, fence: handed });
    assert.ok(((await b.backend.inspect(name))?.holders[0]?.expiresIn ?? 0) > LONG - 10_000);
  });

  it("a hand-off grant lasts the request's claimTtl until confirmed; the backend does not compute it", async () => {
    const [a, b] = await world().openMany(2);
    const name = newName();
    const holder = newToken();
    const waiter = newToken();
    await a.backend.acquire(request(name, holder));
    // Neither the ttl nor the waiterTtl: the client's claim window is what the grant lasts.
    const claimTtl = 2500;
    await b.backend.acquire(request(name, waiter, { enqueue: true, ttl: LONG, waiterTtl: 6000, claimTtl }));
    await a.backend.release(name, holder);
    const expiresIn = (await a.backend.inspect(name))?.holders[0]?.expiresIn ?? 0;
    assert.ok(expiresIn > claimTtl - 1000 && expiresIn <= claimTtl, `the grant expires in ${expiresIn} ms`);
  });

  it('a queued waiter that stops asking leaves the queue when its entry expires', async () => {
    const [a, b] = await world().openMany(2);
    const name = newName();
    const holder = newToken();
    await a.backend.acquire(request(name, holder));
    const gone = newToken();
    await b.backend.acquire(request(name, gone, { enqueue: true, waiterTtl: SHORT }));
    assert.equal((await a.backend.inspect(name))?.waiters.length, 1);
    await world().engine.advance(PAST_SHORT);
    assert.deepEqual((await a.backend.inspect(name))?.waiters, []);
    // Nobody is served by the release: the expired entry is not granted.
    await a.backend.release(name, holder);
    assert.equal(await a.backend.inspect(name), null);
    assert.equal(await b.backend.extend({ name, token: gone, ttl: LONG }), false);
  });

  it('an expired holder hands the name on to the head of the queue', async () => {
    const [a, b] = await world().openMany(2);
    const name = newName();
    const waiter = newToken();
    await a.backend.acquire(request(name, newToken(), { ttl: SHORT }));
    await b.backend.acquire(request(name, waiter, { enqueue: true, waiterTtl: 10_000 }));
    await world().engine.advance(PAST_SHORT);
    // The next operation on the name (any client's) purges the holder and drains the queue.
    const asked = await b.backend.acquire(request(name, waiter, { enqueue: true, waiterTtl: 10_000 }));
    assert.equal(asked.granted, true);
  });

  it('fences strictly increase across grants, hand-offs and re-grants of a name', async () => {
    const [a, b] = await world().openMany(2);
    const name = newName();
    const fences: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const token = newToken();
      const result = await (i % 2 === 0 ? a : b).backend.acquire(request(name, token));
      assert.ok(result.granted);
      fences.push(result.fence);
      await (i % 2 === 0 ? a : b).backend.release(name, token);
    }
    const holder = newToken();
    const held = await a.backend.acquire(request(name, holder));
    assert.ok(held.granted);
    fences.push(held.fence);
    await b.backend.acquire(request(name, newToken(), { enqueue: true }));
    await a.backend.forceRelease(name);
    fences.push((await b.backend.inspect(name))?.holders[0]?.fence ?? 0n);
    assert.ok(increasing(fences), `fences ${fences.join(', ')}`);
  });

  it('fences keep increasing after the engine lost its data', async (t) => {
    const engine = world().engine;
    const lose = engine.loseData;
    if (lose === undefined) {
      t.skip(`${engine.label} cannot simulate data loss`);
      return;
    }
    const { backend } = await world().open();
    const name = newName();
    const before = await backend.acquire(request(name, newToken()));
    assert.ok(before.granted);
    await lose();
    const { backend: fresh } = await world().open();
    let after: bigint | null = null;
    await waitFor(
      async () => {
        const result = await fresh.acquire(request(name, newToken()));
        after = result.granted ? result.fence : null;
        return after !== null;
      },
      { timeout: EVENT, what: `a grant of ${name} after the data loss` },
    );
    assert.ok(after !== null && after > before.fence, `${after} after ${before.fence}`);
  });
}

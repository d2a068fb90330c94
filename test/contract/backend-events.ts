/** The events capability: what changed, published in the same atomic step; sweeps report expiries. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { BackendEvent, EventCapability } from '../../src/backend.js';
import { waitFor } from '../helpers/wait.js';
import {
  type BackendEngineFactory,
  EVENT,
  LONG,
  newName,
  newToken,
  type OpenedBackend,
  PAST_SHORT,
  request,
  SHORT,
  useEngine,
} from './backend-support.js';

function eventsOf(opened: OpenedBackend, t: { skip(message: string): void }): EventCapability | null {
  const { events } = opened.backend;
  if (events === undefined) t.skip(`the ${opened.backend.label} backend declares no events`);
  return events ?? null;
}

/** Watches `pattern` and collects what arrives; `until(n)` waits for n events. */
async function collect(events: EventCapability, pattern: string) {
  const seen: BackendEvent[] = [];
  const stop = await events.watch(pattern, (event) => seen.push(event));
  const until = (count: number): Promise<void> =>
    waitFor(() => seen.length >= count, { timeout: EVENT, what: `${count} events on ${pattern}` });
  return { seen, stop, until };
}

export function eventsSuite(factory: BackendEngineFactory): void {
  const world = useEngine(factory);

  it('every change is an event, in order, to a watcher on another client', async (t) => {
    const [a, b, watcher] = await world().openMany(3);
    const events = eventsOf(watcher, t);
    if (events === null) return;
    const name = newName('ev');
    const watch = await collect(events, `${name}*`);
    const [holder, waiter] = [newToken(), newToken()];
    const held = await a.backend.acquire(request(name, holder, { owner: '{"who":"a"}' }));
    await b.backend.acquire(request(name, waiter, { enqueue: true, owner: '{"who":"b"}' }));
    await a.backend.release(name, holder);
    if (b.backend.capabilities.wakeups === 'wake') {
      // A 'wake' backend's release only tells the waiter to ask again: the hand-off is done
      // (and reported) once it does, as its client would on the wake-up.
      await b.wake(waiter);
      const again = request(name, waiter, { enqueue: true, owner: '{"who":"b"}' });
      assert.equal((await b.backend.acquire(again)).granted, true);
    }
    const handed = (await a.backend.inspect(name))?.holders[0]?.fence;
    await a.backend.forceRelease(name);
    await watch.until(5);
    await watch.stop();
    assert.deepEqual(
      watch.seen.map((e) => [e.type, e.name, e.kind, e.fence, e.permits, e.owner]),
      [
        ['acquired', name, 'mutex', held.granted ? held.fence : null, 1, { who: 'a' }],
        ['waiting', name, 'mutex', null, 1, { who: 'b' }],
        ['released', name, 'mutex', held.granted ? held.fence : null, 1, { who: 'a' }],
        // the release's hand-off: published by the same step as the release, right after it
        // (on a 'wake' backend, by the waiter's confirming acquire)
        ['handoff', name, 'mutex', handed, 1, { who: 'b' }],
        ['lost', name, 'mutex', handed, 1, { who: 'b' }],
      ],
    );
    const [acquired, , released, handoff] = watch.seen;
    assert.ok((acquired?.expiresIn ?? 0) > LONG - 10_000 && (acquired?.expiresIn ?? 0) <= LONG);
    // a handoff lasts the claim window, or on a 'wake' backend the TTL its confirmation armed
    const claimed = b.backend.capabilities.wakeups === 'wake' ? LONG : 6000;
    assert.ok((handoff?.expiresIn ?? 0) > 0 && (handoff?.expiresIn ?? 0) <= claimed, 'a handoff lasts its claim');
    assert.equal(released?.expiresIn, null);
    for (const event of watch.seen) assert.ok(Number.isInteger(event.at) && event.at > 1.6e12, 'at: wall ms');
  });

  it('a watch sees only names matching its glob, and nothing after it stopped', async (t) => {
    const [a, watcher] = await world().openMany(2);
    const events = eventsOf(watcher, t);
    if (events === null) return;
    const base = newName('glob');
    const watch = await collect(events, `${base}:a*`);
    const other = newToken();
    await a.backend.acquire(request(`${base}:b`, other));
    const token = newToken();
    await a.backend.acquire(request(`${base}:a1`, token));
    await watch.until(1);
    await watch.stop();
    await a.backend.release(`${base}:a1`, token);
    await a.backend.acquire(request(`${base}:a2`, newToken()));
    // Events come in order: once a new watch has seen a later one, any event the stopped watch
    // would still get would have arrived too.
    const control = await collect(events, `${base}:a*`);
    await a.backend.forceRelease(`${base}:a2`);
    await control.until(1);
    await control.stop();
    assert.deepEqual(
      watch.seen.map((e) => [e.type, e.name]),
      [['acquired', `${base}:a1`]],
    );
  });

  it('sweep reports an expiry nobody touched and says when the next one is due', async (t) => {
    const [a, watcher] = await world().openMany(2);
    const events = eventsOf(watcher, t);
    if (events === null) return;
    const name = newName('sweep');
    assert.equal(await events.sweep(newName('none')), null);
    const watch = await collect(events, name);
    await a.backend.acquire(request(name, newToken(), { ttl: SHORT }));
    const due = await events.sweep(name);
    assert.ok(due !== null && due > 0 && due <= SHORT, `next expiry in ${due}`);
    await world().engine.advance(PAST_SHORT);
    assert.equal(await events.sweep(name), null);
    await watch.until(2);
    await watch.stop();
    assert.deepEqual(
      watch.seen.map((e) => e.type),
      ['acquired', 'expired'],
    );
  });
}

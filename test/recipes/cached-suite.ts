/** `cached` on any backend: one computation per cold key, errors to their caller only. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, it } from 'node:test';
import { type Holdfast, ValidationError } from '../../src/index.js';
import { type CacheStore, cached } from '../../src/recipes/index.js';
import { waitFor, withTimeout } from '../helpers/wait.js';
import { deferred, type RecipeWorld, type RecipeWorldFactory } from './world.js';

/** Resolves once `count` callers wait in line for the lock of `key`. */
function waiters(hf: Holdfast, key: string, count: number): Promise<void> {
  return waitFor(async () => (await hf.inspect(`cache:${key}`))?.waiters.length === count, {
    what: `${count} waiters on cache:${key}`,
  });
}

export function cachedSuite(factory: RecipeWorldFactory): void {
  let world: RecipeWorld;
  beforeEach(async () => {
    world = await factory();
  });
  afterEach(async () => {
    await world.close();
  });

  it('computes once for 20 concurrent callers on 3 clients; the waiters read its value', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => world.connect()));
    const [hf] = clients as [Holdfast];
    const gate = deferred();
    let computations = 0;
    const compute = async (): Promise<{ total: number }> => {
      computations++;
      await gate.promise;
      return { total: 42 };
    };
    const options = { ttl: 60_000, store: world.store };
    const calls = Array.from({ length: 20 }, (_, i) => cached(clients[i % 3] as Holdfast, 'report', compute, options));
    // All 20 missed: one computes, the other 19 queue for the lock (no polling, no compute).
    await waiters(hf, 'report', 19);
    // The holder re-reads the store before it computes: under load that can come after the queue filled.
    await waitFor(() => computations === 1, { what: 'the lock holder to start computing' });
    gate.resolve();
    const values = await withTimeout(Promise.all(calls), 10_000, 'every caller');
    assert.equal(computations, 1);
    for (const value of values) assert.deepEqual(value, { total: 42 });
    // Warm now: a plain read, no lock taken, nothing computed.
    assert.deepEqual(await cached(hf, 'report', compute, options), { total: 42 });
    assert.equal(computations, 1);
    assert.equal(await hf.inspect('cache:report'), null);
  });

  it('a throwing compute rejects only its caller; the next waiter computes', async () => {
    const [a, b, c] = (await Promise.all([1, 2, 3].map(() => world.connect()))) as [Holdfast, Holdfast, Holdfast];
    const started = deferred();
    const fail = deferred();
    const options = { ttl: 60_000, store: world.store };
    const first = cached(
      a,
      'flaky',
      async () => {
        started.resolve();
        await fail.promise;
        throw new Error('upstream down');
      },
      options,
    );
    await withTimeout(started.promise, 5000, 'the first compute');
    let computed = 0;
    const retry = (): string => {
      computed++;
      return 'fresh';
    };
    const others = [cached(b, 'flaky', retry, options), cached(c, 'flaky', retry, options)];
    await waiters(a, 'flaky', 2);
    fail.resolve();
    await assert.rejects(first, { message: 'upstream down' });
    // The next in line computed; the one after it read that value.
    assert.deepEqual(await withTimeout(Promise.all(others), 10_000, 'the other callers'), ['fresh', 'fresh']);
    assert.equal(computed, 1);
  });

  it('hands every caller the JSON form of the value, the computing one too', async () => {
    const hf = await world.connect();
    const at = new Date('2026-11-01T03:00:00.000Z');
    const value = await cached(hf, 'dated', () => ({ at, n: 1 }), { ttl: 60_000, store: world.store });
    assert.deepEqual(value, { at: '2026-11-01T03:00:00.000Z', n: 1 });
    assert.equal(await world.store.get('dated'), '{"at":"2026-11-01T03:00:00.000Z","n":1}');
  });

  it('refuses a value JSON cannot hold, caches nothing and frees the lock', async () => {
    const hf = await world.connect();
    const options = { ttl: 60_000, store: world.store };
    await assert.rejects(
      cached(hf, 'nothing', () => undefined, options),
      (error) => error instanceof ValidationError,
    );
    assert.equal(await world.store.get('nothing'), undefined);
    assert.equal(await hf.inspect('cache:nothing'), null);
    assert.equal(await cached(hf, 'nothing', () => 'now', options), 'now');
  });

  it('treats a stored value that is not JSON as a miss', async () => {
    const hf = await world.connect();
    await world.store.set('garbled', '{not json', 60_000);
    assert.equal(await cached(hf, 'garbled', () => 'fresh', { ttl: 60_000, store: world.store }), 'fresh');
    assert.equal(await world.store.get('garbled'), '"fresh"');
  });

  it('refuses bad input with ValidationError before touching the store or the backend', async () => {
    const hf = await world.connect();
    let reads = 0;
    const spy: CacheStore = {
      get: async () => {
        reads++;
        return undefined;
      },
      set: async () => {},
    };
    const bad: Array<[string, () => Promise<unknown>]> = [
      ['empty key', () => cached(hf, '', () => 1, { ttl: 1000, store: spy })],
      ['missing options', () => cached(hf, 'k', () => 1, undefined as never)],
      ['ttl 0', () => cached(hf, 'k', () => 1, { ttl: 0, store: spy })],
      ['fractional lockTtl', () => cached(hf, 'k', () => 1, { ttl: 1000, lockTtl: 1.5, store: spy })],
      ['negative wait', () => cached(hf, 'k', () => 1, { ttl: 1000, wait: -1, store: spy })],
      ['unknown option', () => cached(hf, 'k', () => 1, { ttl: 1000, tll: 5, store: spy } as never)],
      ['compute not a function', () => cached(hf, 'k', 'nope' as never, { ttl: 1000, store: spy })],
      ['store without get', () => cached(hf, 'k', () => 1, { ttl: 1000, store: {} as never })],
      ['not a client', () => cached({} as never, 'k', () => 1, { ttl: 1000, store: spy })],
      ['key too long for the lock name', () => cached(hf, 'k'.repeat(510), () => 1, { ttl: 1000, store: spy })],
    ];
    for (const [what, call] of bad) {
      await assert.rejects(call(), (error) => error instanceof ValidationError, what);
    }
    assert.equal(reads, 0);
  });
}

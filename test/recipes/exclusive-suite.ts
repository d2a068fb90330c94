/** `runExclusive` on any backend: runs when free, says `{ ran: false }` when taken. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, it } from 'node:test';
import { type Holdfast, ValidationError } from '../../src/index.js';
import { runExclusive } from '../../src/recipes/index.js';
import { waitFor } from '../helpers/wait.js';
import type { RecipeWorld, RecipeWorldFactory } from './world.js';

export function runExclusiveSuite(factory: RecipeWorldFactory): void {
  let world: RecipeWorld;
  let hf: Holdfast;
  let other: Holdfast;
  beforeEach(async () => {
    world = await factory();
    [hf, other] = (await Promise.all([world.connect(), world.connect()])) as [Holdfast, Holdfast];
  });
  afterEach(async () => {
    await world.close();
  });

  it('runs fn holding the lock, resolves its value and releases', async () => {
    const result = await runExclusive(hf, 'import', async (lease) => {
      assert.equal(lease.name, 'import');
      assert.equal((await other.inspect('import'))?.holders.length, 1);
      return 7;
    });
    assert.deepEqual(result, { ran: true, value: 7 });
    assert.equal(await hf.inspect('import'), null);
  });

  it('does not run while another instance holds the lock', async () => {
    const held = await other.mutex('import').tryAcquire();
    assert.ok(held);
    let calls = 0;
    assert.deepEqual(await runExclusive(hf, 'import', () => ++calls), { ran: false });
    assert.equal(calls, 0);
    await held.release();
    assert.deepEqual(await runExclusive(hf, 'import', () => ++calls), { ran: true, value: 1 });
  });

  it('with wait: runs once the holder lets go, or gives up after wait ms and leaves the queue', async () => {
    const held = await other.mutex('import').tryAcquire();
    assert.ok(held);
    const waiting = runExclusive(hf, 'import', () => 'after the holder', { wait: 10_000 });
    await waitFor(async () => (await hf.inspect('import'))?.waiters.length === 1, { what: 'one waiter' });
    await held.release();
    assert.deepEqual(await waiting, { ran: true, value: 'after the holder' });

    const again = await other.mutex('import').tryAcquire();
    assert.ok(again);
    assert.deepEqual(await runExclusive(hf, 'import', () => 'never', { wait: 50 }), { ran: false });
    assert.equal((await hf.inspect('import'))?.waiters.length, 0);
    await again.release();
  });

  it('rejects with the error of fn, after releasing the lock', async () => {
    await assert.rejects(
      runExclusive(hf, 'import', () => {
        throw new Error('import failed');
      }),
      { message: 'import failed' },
    );
    assert.equal(await hf.inspect('import'), null);
  });

  it('refuses bad input with ValidationError', async () => {
    const bad: Array<[string, () => Promise<unknown>]> = [
      ['empty name', () => runExclusive(hf, '', () => 1)],
      ['fn not a function', () => runExclusive(hf, 'j', null as never)],
      ['ttl 0', () => runExclusive(hf, 'j', () => 1, { ttl: 0 })],
      ['wait not a number', () => runExclusive(hf, 'j', () => 1, { wait: '5' as never })],
      ['unknown option', () => runExclusive(hf, 'j', () => 1, { signal: null } as never)],
      ['not a client', () => runExclusive(null as never, 'j', () => 1)],
    ];
    for (const [what, call] of bad) {
      await assert.rejects(call(), (error) => error instanceof ValidationError, what);
    }
    assert.equal(await hf.inspect('j'), null);
  });
}

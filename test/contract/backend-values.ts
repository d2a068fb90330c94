/** The values capability: a small TTL'd store shared by every client of the backend (for cached()). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ValueCapability } from '../../src/backend.js';
import {
  type BackendEngineFactory,
  newName,
  type OpenedBackend,
  PAST_SHORT,
  SHORT,
  useEngine,
} from './backend-support.js';

function valuesOf(opened: OpenedBackend, t: { skip(message: string): void }): ValueCapability | null {
  const { values } = opened.backend;
  if (values === undefined) t.skip(`the ${opened.backend.label} backend declares no values`);
  return values ?? null;
}

export function valuesSuite(factory: BackendEngineFactory): void {
  const world = useEngine(factory);

  it('a value set by one client is read by another; set replaces it; unknown keys are undefined', async (t) => {
    const [a, b] = await world().openMany(2);
    const [va, vb] = [valuesOf(a, t), valuesOf(b, t)];
    if (va === null || vb === null) return;
    const key = newName('v');
    assert.equal(await vb.get(key), undefined);
    await va.set(key, '{"n":1}', 60_000);
    assert.equal(await vb.get(key), '{"n":1}');
    await vb.set(key, 'text with | and \n and ünïcödé', 60_000);
    assert.equal(await va.get(key), 'text with | and \n and ünïcödé');
    assert.equal(await va.get(newName('v')), undefined);
  });

  it('a value is gone once its TTL ran out', async (t) => {
    const [a, b] = await world().openMany(2);
    const [va, vb] = [valuesOf(a, t), valuesOf(b, t)];
    if (va === null || vb === null) return;
    const [short, long] = [newName('v'), newName('v')];
    await va.set(short, 'brief', SHORT);
    await va.set(long, 'lasting', 60_000);
    assert.equal(await vb.get(short), 'brief');
    await world().engine.advance(PAST_SHORT);
    assert.equal(await vb.get(short), undefined);
    assert.equal(await vb.get(long), 'lasting');
  });
}

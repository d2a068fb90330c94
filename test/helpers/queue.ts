/**
 * Waiting until a queue has a given length: no event announces that a waiter has queued, so
 * tests that need "B is in line" poll `inspect`.
 */
import type { Holdfast } from '../../src/index.js';
import { waitFor } from './wait.js';

/** Resolves once `count` waiters are in line for `name`, as `hf.inspect` sees it. */
export async function untilQueued(hf: Holdfast, name: string, count: number, what = `${count} waiters`): Promise<void> {
  await waitFor(async () => ((await hf.inspect(name))?.waiters.length ?? 0) === count, { what });
}

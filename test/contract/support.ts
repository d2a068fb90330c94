/** What the contract suites share: a fresh world per test, and waits phrased in domain terms. */
import { after, afterEach, beforeEach } from 'node:test';
import type { Holdfast, Semaphore } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import type { World, WorldFactory } from '../helpers/world.js';

/** Real ms to wait for something that should happen "now" (a hand-off, an abort). */
export const EVENT = 10_000;
/**
 * A TTL short enough to wait out on the real clock, long enough for a round trip and for a
 * second client to queue behind it on a machine loaded many times over (at 300 ms, a waiter
 * sometimes found the lock already expired under a load average of 20 on 2 cores).
 */
export const SHORT_TTL = 1000;
/** Past a SHORT_TTL lease's expiry, with room for the backend to notice. */
export const PAST_SHORT_TTL = SHORT_TTL + 200;

/** A fresh world for every test of the enclosing `describe`, closed after it. */
export function useWorld(factory: WorldFactory): () => World {
  let world: World | undefined;
  const cleanup = async (): Promise<void> => {
    const closing = world;
    world = undefined;
    await closing?.close();
  };
  beforeEach(async () => {
    // node:test runs no afterEach for a test that skipped itself (t.skip()): its clients are
    // closed here, or after the last test, instead of being left open (reconnecting forever).
    await cleanup();
    world = await factory();
  });
  afterEach(cleanup);
  after(cleanup);
  return () => {
    if (!world) throw new Error('no world outside a test');
    return world;
  };
}

type Tuple<T, N extends number, R extends T[] = []> = R['length'] extends N ? R : Tuple<T, N, [...R, T]>;

/** `count` new clients of `world`, typed as a tuple so they destructure without checks. */
export async function clients<N extends number>(world: World, count: N): Promise<Tuple<Holdfast, N>> {
  const made: Holdfast[] = [];
  for (let i = 0; i < count; i++) made.push(await world.connect());
  return made as Tuple<Holdfast, N>;
}

/** Resolves once `name` has exactly `count` waiters in its queue. */
export async function queued(hf: Holdfast, name: string, count: number): Promise<void> {
  await waitFor(async () => ((await hf.inspect(name))?.waiters.length ?? 0) === count, {
    timeout: EVENT,
    what: `${count} waiter(s) queued on "${name}"`,
  });
}

/** The fences of the current holders of `name` (empty when free). */
export async function holderFences(hf: Holdfast, name: string): Promise<bigint[]> {
  return ((await hf.inspect(name))?.holders ?? []).map((holder) => holder.fence);
}

/** Permits currently held on `name`. */
export async function permitsInUse(hf: Holdfast, name: string): Promise<number> {
  return ((await hf.inspect(name))?.holders ?? []).reduce((sum, holder) => sum + holder.permits, 0);
}

/** Lets a few macrotask turns pass (real time, no clock), so async work in flight can land. */
export async function turns(count = 3): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A semaphore of `permits` on `name`, or null when the backend does not hold semaphores (a
 * quorum cannot: its UnsupportedError is asserted by its own tests), so a contract about
 * something else runs there without it.
 */
export function semaphoreIfHeld(hf: Holdfast, name: string, permits: number): Semaphore | null {
  return hf.capabilities.locks.includes('semaphore') ? hf.semaphore(name, { permits }) : null;
}

/** Starting, releasing and collecting the worker processes of one primitives stress run. */
import assert from 'node:assert/strict';
import type { Message } from '../helpers/child.js';
import { withTimeout } from '../helpers/wait.js';
import type { StressWorld } from './engine.js';

/** Starting several tsx processes on 2 cores takes a few seconds. */
export const START_TIMEOUT = 60_000;
/**
 * Hang detectors, not speed checks: the etcd rwlock run took 42 s in a full `npm test` on a
 * loaded machine (Redis: 6 s), as every grant is a Raft write; as long as the etcd fault stress.
 */
const RUN_TIMEOUT = 180_000;
export const TEST_TIMEOUT = 300_000;

export interface Run<D> {
  readonly done: D[];
  readonly ms: number;
}

/**
 * Starts one worker per argument list, lets them all go at once (`go()` makes the message, so
 * it can carry a time computed at the last moment), and collects their `done` reports.
 */
export async function runWorkers<D extends Message>(
  w: StressWorld,
  script: URL,
  argsList: readonly (readonly string[])[],
  go: () => Message,
): Promise<Run<D>> {
  const spawned = await Promise.allSettled(argsList.map((args) => w.spawn(script, args)));
  const children = spawned.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  assert.equal(children.length, argsList.length, 'every worker process spawned');
  await Promise.all(children.map((child) => child.next('ready', START_TIMEOUT)));
  const started = performance.now();
  const message = go();
  for (const child of children) child.send(message);
  const done = await Promise.all(children.map((child) => child.next<D>('done', RUN_TIMEOUT)));
  const ms = performance.now() - started;
  await withTimeout(Promise.all(children.map((child) => child.exited)), 10_000, 'the workers to exit');
  return { done, ms };
}

export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

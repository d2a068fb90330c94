/**
 * What the primitives stress tests need from the engine they run on (test/stress-primitives/suite.ts):
 * each test file supplies one, so the same tests, workers and checkers run on a redis-server and
 * on a 3-member etcd cluster.
 */
import type { TestContext } from 'node:test';
import type { Redis } from 'ioredis';
import type { Holdfast } from '../../src/index.js';
import type { Child } from '../helpers/child.js';

/** One test's world, torn down (clients closed, children killed) when the test ends. */
export interface StressWorld {
  /** What holdfast connects to: the engine under test. */
  readonly url: string;
  /** Key prefix of this test's locks and witnesses. */
  readonly prefix: string;
  /**
   * The Redis the read-write workers keep their witnesses on (the writers' counter, the readers
   * inside, the shared stamp counter: `rwKeys`). On the Redis engine it is the same server as the
   * locks; on etcd a redis-server beside the cluster, as in the etcd mutex stress.
   */
  readonly witness: { readonly url: string; readonly admin: Redis };
  client(): Promise<Holdfast>;
  spawn(script: URL, args: readonly string[]): Promise<Child>;
}

export interface StressEngine {
  /** Names the engine in test names and skip reasons. */
  readonly label: string;
  /**
   * The election's `ttl` (ms). A leader is frozen right after a renewal and must be frozen
   * before the next one can be sent (a third of the TTL later), and stays frozen 1.5 TTL.
   */
  readonly electionTtl: number;
  world(t: TestContext): Promise<StressWorld>;
}

/**
 * Every primitive contract suite, in one call, so each backend's test file runs the same list:
 * a suite added here runs on every backend at once. A backend that does not hold a primitive
 * (it does not declare the lock kind or rate limiting: UnsupportedError) names it in `without`,
 * and its own test file shows that refusal.
 */
import type { WorldFactory } from '../helpers/world.js';
import { clientContract } from './client.js';
import { electionContract } from './election.js';
import { leaseContract } from './lease.js';
import { mutexContract } from './mutex.js';
import { rateLimiterContract } from './rate-limiter.js';
import { rwlockContract } from './rwlock.js';
import { semaphoreContract } from './semaphore.js';
import { watchContract } from './watch.js';

const SUITES = {
  mutex: mutexContract,
  semaphore: semaphoreContract,
  lease: leaseContract,
  client: clientContract,
  rwlock: rwlockContract,
  rateLimiter: rateLimiterContract,
  election: electionContract,
  watch: watchContract,
} as const;

export type PrimitiveSuite = keyof typeof SUITES;

export function primitiveContracts(world: WorldFactory, without: readonly PrimitiveSuite[] = []): void {
  for (const [suite, run] of Object.entries(SUITES) as [PrimitiveSuite, (w: WorldFactory) => void][]) {
    if (!without.includes(suite)) run(world);
  }
}

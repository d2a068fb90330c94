/**
 * Every contract on the embedded holdfast server (holdfast://): one server for this file, a
 * fresh prefix per test, short real TTLs, the suites unchanged.
 */
import { clientContract } from './contract/client.js';
import { electionContract } from './contract/election.js';
import { leaseContract } from './contract/lease.js';
import { mutexContract } from './contract/mutex.js';
import { rateLimiterContract } from './contract/rate-limiter.js';
import { rwlockContract } from './contract/rwlock.js';
import { semaphoreContract } from './contract/semaphore.js';
import { watchContract } from './contract/watch.js';
import { serverWorld, useHoldfastServer } from './server/world.js';

const world = serverWorld(useHoldfastServer());

mutexContract(world);
semaphoreContract(world);
leaseContract(world);
clientContract(world);
rwlockContract(world);
rateLimiterContract(world);
electionContract(world);
watchContract(world);

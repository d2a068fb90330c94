/** Every contract on the in-process backend, on a fake clock: TTLs take no real time. */
import { clientContract } from './contract/client.js';
import { electionContract } from './contract/election.js';
import { leaseContract } from './contract/lease.js';
import { mutexContract } from './contract/mutex.js';
import { rateLimiterContract } from './contract/rate-limiter.js';
import { rwlockContract } from './contract/rwlock.js';
import { semaphoreContract } from './contract/semaphore.js';
import { watchContract } from './contract/watch.js';
import { memoryWorld } from './helpers/world.js';

mutexContract(memoryWorld);
semaphoreContract(memoryWorld);
leaseContract(memoryWorld);
clientContract(memoryWorld);
rwlockContract(memoryWorld);
rateLimiterContract(memoryWorld);
electionContract(memoryWorld);
watchContract(memoryWorld);

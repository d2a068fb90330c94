/** Every contract on the in-process backend, on a fake clock: TTLs take no real time. */
import { clientContract } from './contract/client.js';
import { leaseContract } from './contract/lease.js';
import { mutexContract } from './contract/mutex.js';
import { semaphoreContract } from './contract/semaphore.js';
import { memoryWorld } from './helpers/world.js';

mutexContract(memoryWorld);
semaphoreContract(memoryWorld);
leaseContract(memoryWorld);
clientContract(memoryWorld);

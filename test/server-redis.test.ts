/**
 * Every contract on the holdfast server in front of Redis (`holdfast server --backend
 * redis://…`, a redis-server this file starts): holdfast:// clients, a fresh prefix per test
 * (a namespace of the server, one Redis client of its own), the suites unchanged.
 */
import { clientContract } from './contract/client.js';
import { electionContract } from './contract/election.js';
import { leaseContract } from './contract/lease.js';
import { mutexContract } from './contract/mutex.js';
import { rateLimiterContract } from './contract/rate-limiter.js';
import { rwlockContract } from './contract/rwlock.js';
import { semaphoreContract } from './contract/semaphore.js';
import { watchContract } from './contract/watch.js';
import { serverBackend } from './server/backend.js';
import { serverWorld, useHoldfastServer } from './server/world.js';

const backend = serverBackend('redis');
const world = serverWorld(
  useHoldfastServer(async () => {
    await backend.ready();
    return backend.options();
  }),
);

mutexContract(world);
semaphoreContract(world);
leaseContract(world);
clientContract(world);
rwlockContract(world);
rateLimiterContract(world);
electionContract(world);
watchContract(world);

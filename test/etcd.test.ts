/**
 * Every lock contract on a real 3-member etcd cluster (Debian's etcd-server, started by the
 * harness on loopback ports with its own data dirs; fails, never skips, without it), then what
 * only etcd shows: fences are create revisions, waiters watch only the key ahead of them, TTLs
 * rounded up to whole seconds for the cluster's lease.
 */
import { clientContract } from './contract/client.js';
import { electionContract } from './contract/election.js';
import { leaseContract } from './contract/lease.js';
import { mutexContract } from './contract/mutex.js';
import { rwlockContract } from './contract/rwlock.js';
import { semaphoreContract } from './contract/semaphore.js';
import { watchContract } from './contract/watch.js';
import { etcdWorld, useEtcdCluster } from './helpers/etcd-world.js';

const cluster = useEtcdCluster(3);
const world = etcdWorld(cluster);

mutexContract(world);
semaphoreContract(world);
leaseContract(world);
clientContract(world);
rwlockContract(world);
electionContract(world);
watchContract(world);

/**
 * Every lock contract on a real 3-member etcd cluster (Debian's etcd-server, started by the
 * harness on loopback ports with its own data dirs; fails, never skips, without it), then what
 * only etcd shows: fences are create revisions, waiters watch only the key ahead of them, TTLs
 * rounded up to whole seconds for the cluster's lease.
 */

import { primitiveContracts } from './contract/primitives.js';
import { etcdWorld, useEtcdCluster } from './helpers/etcd-world.js';

const cluster = useEtcdCluster(3);
const world = etcdWorld(cluster);

primitiveContracts(world, ['rateLimiter']);

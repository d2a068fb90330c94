/**
 * Every contract on Redis Cluster: one 3-master cluster for this file (test/helpers/
 * redis-cluster.ts), a fresh key prefix per test. The backend conformance suite and the
 * primitive contract suites run unchanged; then what only a cluster can show (cluster/
 * specifics.ts): names spread over slots and masters, a name with braces in its own slot,
 * renewals across slots, list over every master, a hand-off to a client on another node;
 * and wake-ups by sharded pub/sub (cluster/shard-wakes.ts).
 */
import { after, before, describe } from 'node:test';
import { clusterShardWakes } from './cluster/shard-wakes.js';
import { clusterSpecifics } from './cluster/specifics.js';
import { backendConformance } from './contract/backend.js';
import { redisClusterEngine } from './contract/backend-engines.js';
import { primitiveContracts } from './contract/primitives.js';
import { buildCli } from './helpers/cli.js';
import { clusterGetter, type RedisCluster, startRedisCluster } from './helpers/redis-cluster.js';
import { redisClusterWorld } from './helpers/world.js';

const holder: { cluster?: RedisCluster } = {};
before(async () => {
  // The CLI test runs the built binary (test/helpers/cli.ts builds it when sources changed).
  [holder.cluster] = await Promise.all([startRedisCluster({ masters: 3 }), buildCli()]);
});
after(async () => {
  await holder.cluster?.stop();
});
const cluster = clusterGetter(holder);
const world = redisClusterWorld(cluster);

describe('backend conformance: redis cluster', () => backendConformance(redisClusterEngine(cluster)));

primitiveContracts(world);

clusterSpecifics(cluster);

clusterShardWakes(cluster);

/**
 * The backend conformance suite (test/contract/backend.ts) on every backend this package
 * ships: memory (fake clock), Redis (a spawned redis-server), etcd (a spawned 3-member
 * cluster), a quorum of 3 spawned redis-servers ({ redlock }) and holdfast:// (an in-process
 * server per test, state in memory); and on a memory backend cut down to the required core, so
 * the "capability not declared" side of the suite runs too.
 */
import { describe } from 'node:test';
import { backendConformance } from './contract/backend.js';
import {
  coreOnlyEngine,
  etcdEngine,
  holdfastEngine,
  memoryEngine,
  quorumEngine,
  redisEngine,
} from './contract/backend-engines.js';
import { useEtcdCluster } from './helpers/etcd-world.js';
import { useRedisNodes } from './helpers/quorum.js';
import { useRedisServer } from './helpers/world.js';

describe('backend conformance: memory', () => backendConformance(memoryEngine));

describe('backend conformance: redis', () => {
  const server = useRedisServer();
  backendConformance(redisEngine(server));
});

describe('backend conformance: etcd (3 members)', () => {
  const cluster = useEtcdCluster(3);
  backendConformance(etcdEngine(cluster));
});

describe('backend conformance: quorum of 3 redis-servers', () => {
  const nodes = useRedisNodes(3);
  backendConformance(quorumEngine(nodes));
});

describe('backend conformance: holdfast://', () => backendConformance(holdfastEngine));

describe('backend conformance: the required core alone (memory, nothing optional declared)', () =>
  backendConformance(coreOnlyEngine));

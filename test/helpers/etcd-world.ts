/**
 * Contract worlds on a real etcd cluster: one cluster per test file (started in `before`,
 * stopped in `after`), a fresh key prefix per world so tests never meet.
 */
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { ClosedError, connect, type Holdfast } from '../../src/index.js';
import { type EtcdCluster, startEtcdCluster } from './etcd-cluster.js';
import { sleep } from './wait.js';
import type { WorldFactory } from './world.js';

/** Starts an etcd cluster of `size` members for the calling test file; a getter, as it exists only once the hooks ran. */
export function useEtcdCluster(size = 3): () => EtcdCluster {
  let cluster: EtcdCluster | undefined;
  before(async () => {
    cluster = await startEtcdCluster({ size, partitionable: false });
  });
  after(async () => {
    await cluster?.close();
  });
  return () => {
    if (!cluster) throw new Error('the etcd cluster has not started (use it inside tests, not at load time)');
    return cluster;
  };
}

export function etcdWorld(cluster: () => EtcdCluster): WorldFactory {
  return async () => {
    const { url } = cluster();
    const prefix = `test-${randomBytes(6).toString('hex')}:`;
    const clients: Holdfast[] = [];
    return {
      backend: 'etcd',
      fake: false,
      async connect(options = {}) {
        const client = await connect(url, {
          prefix,
          ...(options.waiterTtl === undefined ? {} : { waiterTtl: options.waiterTtl }),
        });
        clients.push(client);
        return client;
      },
      advance: (ms) => sleep(ms),
      async close() {
        const results = await Promise.allSettled(clients.map((client) => client.close()));
        for (const result of results) {
          if (result.status === 'rejected' && !(result.reason instanceof ClosedError)) throw result.reason;
        }
      },
    };
  };
}

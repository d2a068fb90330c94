/**
 * A Redis backend on the test file's cluster with its wake-ups in reach of a test: hand-off
 * grants and requests to ask again (a null grant: on a cluster, also when a waiter's shard
 * subscription became active, src/backends/redis/shard-wakes.ts) are told apart.
 */
import { randomBytes } from 'node:crypto';
import type { Backend, HandoffGrant } from '../../src/backend.js';
import { open } from '../../src/backends/redis/index.js';
import type { RedisCluster } from '../helpers/redis-cluster.js';
import { withTimeout } from '../helpers/wait.js';

export const TIMEOUT = 10_000;

export interface Opened {
  readonly backend: Backend;
  readonly clientId: string;
  /** The next hand-off grant for `token`. */
  wake(token: string): Promise<HandoffGrant>;
  /** The next wake-up of `token` that carries no grant (ask again). */
  asked(token: string): Promise<void>;
}

export async function openClusterBackend(cluster: RedisCluster, prefix: string): Promise<Opened> {
  const clientId = `c${randomBytes(6).toString('hex')}`;
  const grants = new Map<string, (grant: HandoffGrant) => void>();
  const asks = new Map<string, () => void>();
  const backend = await open(
    { cluster: [...cluster.urls] },
    {
      clientId,
      prefix,
      onWake: (token, grant) => (grant ? grants.get(token)?.(grant) : asks.get(token)?.()),
      onResync: () => {},
    },
    { commandTimeout: TIMEOUT },
  );
  const wake = (token: string): Promise<HandoffGrant> =>
    withTimeout(new Promise((resolve) => grants.set(token, resolve)), TIMEOUT, `a hand-off to ${token}`);
  const asked = (token: string): Promise<void> =>
    withTimeout(new Promise((resolve) => asks.set(token, resolve)), TIMEOUT, `a request that ${token} ask again`);
  return { backend, clientId, wake, asked };
}

/**
 * Events on Redis Cluster. The scripts publish an event only when someone listens: they ask
 * the node they run on (PUBSUB NUMPAT, scripts/includes/events.lua), so that events cost
 * nothing when nobody watches. On a cluster that count is the node's own: a watch subscribed
 * on node A makes node B's scripts believe nobody listens. So while a client watches, it keeps
 * one *beacon* on every master: a connection holding a pattern subscription that matches no
 * channel we publish on, there only to make that master's NUMPAT count it. The events
 * themselves arrive on the client's one subscriber (a plain PUBLISH reaches every node of the
 * cluster), once each. Masters that appear later (a failover, a node added) get a beacon when
 * the client next reads the slot map (every second, cluster.ts).
 */
import type { Cluster, Redis } from 'ioredis';
import { asBackendError } from '../../errors.js';
import { quietErrors, resubscribeOnReady, withTimeout } from './connection.js';

export class Beacons {
  readonly #cluster: Cluster;
  readonly #pattern: string;
  readonly #timeout: number;
  /** By node key (host:port). */
  readonly #connections = new Map<string, Redis>();
  #wanted = false;
  #syncing: Promise<void> | null = null;
  readonly #onRefresh = (): void => {
    if (this.#wanted) this.#sync().catch(() => {});
  };

  /** `pattern`: a PSUBSCRIBE pattern nothing is published on, e.g. `<prefix>beacon:<clientId>`. */
  constructor(cluster: Cluster, pattern: string, timeout: number) {
    this.#cluster = cluster;
    this.#pattern = pattern;
    this.#timeout = timeout;
    cluster.on('refresh', this.#onRefresh);
  }

  /** Resolves once every master known now holds a beacon. */
  start(): Promise<void> {
    this.#wanted = true;
    return this.#sync();
  }

  /** The backend closes: no more beacons, and no listener left on a cluster the application owns. */
  close(): void {
    this.#cluster.off('refresh', this.#onRefresh);
    this.stop();
  }

  /** No watch is left: every beacon goes. */
  stop(): void {
    this.#wanted = false;
    for (const connection of this.#connections.values()) connection.disconnect();
    this.#connections.clear();
  }

  #sync(): Promise<void> {
    // One sync at a time; a request during one runs after it, on the map as it is then.
    const previous = this.#syncing ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.#syncNow());
    this.#syncing = next;
    return next;
  }

  async #syncNow(): Promise<void> {
    if (!this.#wanted) return;
    const masters = new Map(this.#cluster.nodes('master').map((node) => [keyOf(node), node]));
    for (const [key, connection] of this.#connections) {
      if (!masters.has(key)) {
        connection.disconnect();
        this.#connections.delete(key);
      }
    }
    const added = [...masters].filter(([key]) => !this.#connections.has(key));
    await Promise.all(added.map(([key, node]) => this.#open(key, node)));
  }

  async #open(key: string, node: Redis): Promise<void> {
    const connection = node.duplicate({
      enableOfflineQueue: true,
      autoResubscribe: false,
      commandTimeout: this.#timeout,
      enableAutoPipelining: false,
    });
    quietErrors(connection);
    resubscribeOnReady(connection, () => [this.#pattern]);
    this.#connections.set(key, connection);
    try {
      await withTimeout(connection.psubscribe(this.#pattern), this.#timeout, `watching on ${key}`);
    } catch (error) {
      connection.disconnect();
      if (this.#connections.get(key) === connection) this.#connections.delete(key);
      throw asBackendError(error, `watching on ${key}`);
    }
  }
}

function keyOf(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

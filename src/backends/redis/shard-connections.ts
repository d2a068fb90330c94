/**
 * The connections a client SSUBSCRIBEs on, at most one per master of a Redis Cluster: a shard
 * channel is heard only on the master that serves its slot, so each master with a name this
 * client waits on gets a connection of its own (shard-wakes.ts decides which channels).
 *
 * Our own connections rather than ioredis's `shardedSubscribers` (ClusterSubscriberGroup): that
 * one re-subscribes after a change of nodes without saying when the server has confirmed, and
 * drops the errors of those re-subscriptions, so a waiter could not know when to ask again.
 */
import type { Cluster, Redis } from 'ioredis';
import { closeConnection, quietErrors, withTimeout } from './connection.js';

export interface ShardListener {
  /** A message on a shard channel. */
  message(channel: string, message: string): void;
  /** The connection to `node` dropped: nothing subscribed on it is heard until it is back. */
  dropped(node: string): void;
  /** The connection to `node` is back after a drop, with no subscriptions. */
  reconnected(node: string): void;
  /** The server unsubscribed us on its own: a slot of ours left that node (a reshard). */
  unsubscribed(): void;
}

/**
 * What ioredis reports when the server unsubscribes a connection on its own (Redis sends
 * SUNSUBSCRIBE for every channel of a slot that leaves the node): it matches the reply to no
 * command and emits this error. It only hastens noticing a move (SLOTS_REFRESH_MS finds it too).
 */
const SERVER_UNSUBSCRIBED = 'Last reply: sunsubscribe,';

/** `host:port`, as ioredis names a node in `Cluster.slots`. */
function keyOf(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

export class ShardConnections {
  readonly #cluster: Cluster;
  readonly #timeout: number;
  readonly #listener: ShardListener;
  readonly #connections = new Map<string, Redis>();

  constructor(cluster: Cluster, timeout: number, listener: ShardListener) {
    this.#cluster = cluster;
    this.#timeout = timeout;
    this.#listener = listener;
  }

  /**
   * SSUBSCRIBEs `channel` on master `node` (`host:port`); resolves once the server has
   * confirmed. Null when the cluster client knows no such node.
   */
  subscribe(node: string, channel: string): Promise<unknown> | null {
    const connection = this.#connection(node);
    if (connection === null) return null;
    return withTimeout(connection.ssubscribe(channel), this.#timeout, 'subscribing to wake-ups');
  }

  /**
   * SUNSUBSCRIBEs `channel` on `node`, after whatever was sent there before (an SSUBSCRIBE still
   * in the offline queue included); a failure leaves nothing to undo (the connection is gone).
   */
  unsubscribe(node: string, channel: string): void {
    const connection = this.#connections.get(node);
    if (connection !== undefined && connection.status !== 'end') connection.sunsubscribe(channel).catch(() => {});
  }

  /** Closes the connections to nodes `used` does not have (no longer a master of ours). */
  prune(used: ReadonlySet<string>): void {
    for (const [node, connection] of this.#connections) {
      if (used.has(node)) continue;
      this.#connections.delete(node);
      closeConnection(connection, this.#timeout).catch(() => {});
    }
  }

  get size(): number {
    return this.#connections.size;
  }

  async close(): Promise<void> {
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(connections.map((connection) => closeConnection(connection, this.#timeout)));
  }

  /**
   * The connection to `node`, opened on first use: a duplicate of the cluster client's own
   * connection to that node (same address, credentials, TLS). It reconnects by itself after a
   * drop (ioredis's retry strategy); re-subscribing is left to the listener, which must also
   * have its waiters ask again.
   */
  #connection(node: string): Redis | null {
    const known = this.#connections.get(node);
    if (known !== undefined) return known;
    const source = this.#cluster.nodes('all').find((candidate) => keyOf(candidate) === node);
    if (source === undefined) return null;
    const connection = source.duplicate({
      autoResubscribe: false,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
      lazyConnect: false,
      commandTimeout: this.#timeout,
    });
    quietErrors(connection);
    let wasReady = false;
    connection.on('ready', () => {
      if (wasReady) this.#listener.reconnected(node);
      wasReady = true;
    });
    connection.on('close', () => {
      if (this.#connections.get(node) === connection) this.#listener.dropped(node);
    });
    connection.on('error', (error: Error) => {
      if (error.message.includes(SERVER_UNSUBSCRIBED)) this.#listener.unsubscribed();
    });
    connection.on('smessage', (channel: string, message: string) => this.#listener.message(channel, message));
    this.#connections.set(node, connection);
    return connection;
  }
}

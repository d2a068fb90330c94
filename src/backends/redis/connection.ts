/**
 * The connections of one Redis backend: the command connection (ours, or the user's) and
 * exactly one subscriber per client for wake-ups, however many waiters it has.
 */
import { type Cluster, Redis } from 'ioredis';
import { asBackendError, BackendError, HoldfastError } from '../../errors.js';
import { isCluster, type RedisConnection, refreshSlotsPeriodically } from './cluster.js';

/** Reconnect attempts a queued command waits through before it fails (ioredis default: 20). */
const MAX_RETRIES_PER_REQUEST = 3;

/**
 * Our own command connection. Commands issued while disconnected wait in the offline queue
 * for a reconnect, but `commandTimeout` makes a lost reply reject instead of hang. The URL
 * carries user, password, db and TLS (`rediss://`); ioredis parses it. No auto-pipelining:
 * it holds every command back to the next turn of the event loop, which measured 20–25 %
 * slower for sequential acquire/release and slower hand-offs, for no clear gain at 64 in
 * parallel (renewals are batched into one pipeline anyway).
 */
export function openClient(url: string, commandTimeout: number): { client: Redis; lastError: () => Error | undefined } {
  const client = new Redis(url, {
    enableOfflineQueue: true,
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
    commandTimeout,
  });
  return { client, lastError: quietErrors(client) };
}

/**
 * A command's failure as callers should read it. While the connection is down ioredis rejects
 * with "Reached the max retries per request limit", which says neither where nor why: name the
 * server and the connection's own latest error instead.
 */
export function commandFailed(client: RedisConnection, error: unknown, what: string, lastError?: Error): HoldfastError {
  if (error instanceof HoldfastError) return error;
  const down = client.status !== 'ready' || (error instanceof Error && error.name === 'MaxRetriesPerRequestError');
  if (!down) return asBackendError(error, what);
  const why = lastError?.message ?? (error instanceof Error ? error.message : String(error));
  return new BackendError(`Redis at ${whereOf(client)} unreachable: ${why} (${what})`, { cause: error });
}

/** host:port (or the socket path) of a connection, for messages; a cluster's seed nodes. */
export function whereOf(connection: RedisConnection): string {
  if (isCluster(connection)) return `the cluster of ${seedsOf(connection)}`;
  const { host, port, path } = connection.options;
  return path || `${host?.includes(':') ? `[${host}]` : host}:${port}`;
}

function seedsOf(cluster: Cluster): string {
  const seeds = (cluster as unknown as { startupNodes?: readonly unknown[] }).startupNodes ?? [];
  const shown = seeds.map((seed) => {
    if (typeof seed === 'string' || typeof seed === 'number') return String(seed);
    const { host, port } = seed as { host?: string; port?: number };
    return `${host ?? '127.0.0.1'}:${port ?? 6379}`;
  });
  return shown.length > 0 ? shown.join(', ') : 'unknown nodes';
}

/**
 * Failures reach callers as rejected commands; without a listener ioredis would also print
 * every reconnect attempt's error to the console. Returns the latest such error, which says
 * why a connection fails where the rejected command does not.
 */
export function quietErrors(connection: RedisConnection): () => Error | undefined {
  let latest: Error | undefined;
  connection.on('error', (error: Error) => {
    latest = error;
  });
  // A cluster reports each node's failures apart; they say why commands fail just as well.
  if (isCluster(connection)) {
    connection.on('node error', (error: Error) => {
      latest = error;
    });
  }
  return () => latest;
}

/**
 * A duplicate of `client` (same server, credentials, TLS) subscribed to `channel`; resolves
 * once the server has confirmed the subscription, so a hand-off published right after
 * connecting is not missed. After a reconnect it subscribes again and, once the server has
 * confirmed, calls `onResync`: wake-ups published during the gap are gone.
 *
 * ioredis's own `autoResubscribe` is off: it re-sends SUBSCRIBE/PSUBSCRIBE on every reconnect
 * without handling their promises, so a connection closed right after it reconnected (before
 * the server confirmed) made them reject unhandled ("Connection is closed."). We re-subscribe
 * ourselves instead, here and in `resubscribeOnReady` for patterns, with every failure caught.
 */
export async function openSubscriber<C extends RedisConnection>(
  client: C,
  channel: string,
  onMessage: (message: string) => void,
  onResync: () => void,
  timeout: number,
): Promise<C> {
  const subscriber = duplicateForSubscribing(client, timeout);
  const lastError = quietErrors(subscriber);
  subscriber.on('message', (from: string, message: string) => {
    if (from === channel) onMessage(message);
  });
  try {
    await withTimeout(subscriber.subscribe(channel), timeout, 'subscribing to wake-ups');
    subscriber.on('ready', () => {
      // Subscribing twice is harmless; waiting for the confirmation is what matters.
      subscriber.subscribe(channel).then(onResync, () => {});
    });
    // On a cluster, ioredis keeps the subscriptions on one node of its choice and moves them
    // to another when that node leaves (its ClusterSubscriber), without telling us: wake-ups
    // published during the move are gone, so waiters ask again after every change of nodes.
    if (isCluster(subscriber)) {
      subscriber.on('+node', onResync);
      subscriber.on('-node', onResync);
    }
    return subscriber;
  } catch (error) {
    subscriber.disconnect();
    const cause = lastError();
    throw cause === undefined ? error : connectFailed(subscriber, cause);
  }
}

/**
 * A connection for SUBSCRIBE and PSUBSCRIBE only. One Redis: a duplicate that re-subscribes
 * itself (see above). A cluster: a duplicate Cluster, whose pub/sub goes to one node (plain
 * PUBLISH reaches every node of a cluster, so any node hears every wake-up and event) and
 * which ioredis re-subscribes on another node when that one goes away.
 */
function duplicateForSubscribing<C extends RedisConnection>(client: C, timeout: number): C {
  if (isCluster(client)) {
    // ioredis's own periodic refresh can outlive disconnect() (see refreshSlotsPeriodically).
    const subscriber = client.duplicate([], {
      enableOfflineQueue: true,
      enableAutoPipelining: false,
      slotsRefreshInterval: 0,
    });
    subscriber.once('end', refreshSlotsPeriodically(subscriber));
    return subscriber as C;
  }
  return (client as Redis).duplicate({
    enableOfflineQueue: true,
    autoResubscribe: false,
    commandTimeout: timeout,
    enableAutoPipelining: false,
  }) as C;
}

/**
 * After each reconnect of `subscriber` (opened with `autoResubscribe: false`), PSUBSCRIBEs
 * the patterns `active()` names. A failure is left alone: the connection is closing or down,
 * and the next reconnect subscribes again.
 */
export function resubscribeOnReady(subscriber: RedisConnection, active: () => readonly string[]): void {
  subscriber.on('ready', () => {
    const patterns = active();
    if (patterns.length > 0) subscriber.psubscribe(...patterns).catch(() => {});
  });
}

/**
 * Why the first connection failed, with where it was going: what ioredis rejects the command
 * with ("Reached the max retries per request limit") does not say.
 */
function connectFailed(connection: RedisConnection, cause: Error): BackendError {
  return new BackendError(`connecting to Redis at ${whereOf(connection)} failed: ${cause.message}`, { cause });
}

/** Quits gracefully, or drops the connection when the server does not answer in time. */
export async function closeConnection(connection: RedisConnection, timeout: number): Promise<void> {
  try {
    await withTimeout(connection.quit(), timeout, 'closing the connection');
  } catch {
    // the goal is a closed connection, and disconnect() gets there without the server
  } finally {
    connection.disconnect();
  }
}

/**
 * Rejects when `promise` has not settled within `ms`. Used where ioredis's own
 * `commandTimeout` is not ours to set (a user's client) or does not apply.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BackendError(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

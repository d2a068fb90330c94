/**
 * The connections of one Redis backend: the command connection (ours, or the user's) and
 * exactly one subscriber per client for wake-ups, however many waiters it has.
 */
import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import { asBackendError, BackendError, HoldfastError } from '../../errors.js';
import { isCluster, type RedisConnection, refreshSlotsPeriodically } from './cluster.js';
import { CommandTimedOut } from './deadlines.js';

/** Reconnect attempts a queued command waits through before it fails (ioredis default: 20). */
const MAX_RETRIES_PER_REQUEST = 3;

/**
 * Our own command connection. Commands issued while disconnected wait in the offline queue
 * for a reconnect; the backend bounds each one it sends (deadlines.ts), so a lost reply
 * rejects instead of hanging. Not ioredis's `commandTimeout`: it arms and clears a timer per
 * command, which measured ~4 µs of client CPU per acquire+release. The URL
 * carries user, password, db and TLS (`rediss://`); ioredis parses it. No auto-pipelining:
 * it holds every command back to the next turn of the event loop, which measured 20–25 %
 * slower for sequential acquire/release and slower hand-offs, for no clear gain at 64 in
 * parallel (renewals are batched into one pipeline anyway). Options instead of a URL come from
 * another backend module that builds on this one (Sentinel: src/backends/sentinel/).
 */
export function openClient(target: string | RedisOptions): { client: Redis; lastError: () => Error | undefined } {
  const options: RedisOptions = {
    enableOfflineQueue: true,
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
  };
  const client = typeof target === 'string' ? new Redis(target, options) : new Redis({ ...options, ...target });
  keepSentinelConnection(client);
  return { client, lastError: quietErrors(client) };
}

/** Connections closed on purpose (an 'end' of any other Sentinel connection is ioredis giving up). */
const closedByUs = new WeakSet<RedisConnection>();
/** How soon a Sentinel connection that ioredis gave up on is connected again. */
const SENTINEL_RECONNECT_MS = 100;

/** Closes `connection` at once, for good. */
export function drop(connection: RedisConnection): void {
  closedByUs.add(connection);
  connection.disconnect();
}

/**
 * ioredis gives a Sentinel connection up for good (status 'end': every command then fails with
 * "Connection is closed.") when its failover detector disconnects it while it is resolving the
 * primary through the sentinels: the detector of the connection that a dead primary dropped is
 * still subscribed, and the sentinels' +switch-master lands in the middle of the reconnect. A
 * test that killed the primary on a loaded machine saw a client never come back. Connect it
 * again, unless we closed it.
 */
function keepSentinelConnection(connection: RedisConnection): void {
  if (isCluster(connection) || !connection.options.sentinels) return;
  connection.on('end', () => {
    if (closedByUs.has(connection)) return;
    const timer = setTimeout(() => {
      if (!closedByUs.has(connection) && connection.status === 'end') connection.connect().catch(() => {});
    }, SENTINEL_RECONNECT_MS);
    timer.unref();
  });
}

/**
 * A command's failure as callers should read it. While the connection is down ioredis rejects
 * with "Reached the max retries per request limit", and a command that waited in the offline
 * queue may time out (deadlines.ts), which say neither where nor why: name the server and the
 * connection's own latest error instead.
 */
export function commandFailed(client: RedisConnection, error: unknown, what: string, lastError?: Error): HoldfastError {
  if (error instanceof HoldfastError) return error;
  const down = client.status !== 'ready' || (error instanceof Error && error.name === 'MaxRetriesPerRequestError');
  if (!down && error instanceof CommandTimedOut) return new BackendError(`${what} ${error.message}`, { cause: error });
  if (!down) return asBackendError(error, what);
  const why = lastError?.message ?? (error instanceof Error ? error.message : String(error));
  return new BackendError(`Redis at ${whereOf(client)} unreachable: ${why} (${what})`, { cause: error });
}

/** host:port (or the socket path) of a connection, for messages; a cluster's seed nodes, a Sentinel client's primary. */
export function whereOf(connection: RedisConnection): string {
  if (isCluster(connection)) return `the cluster of ${seedsOf(connection)}`;
  const { host, port, path, sentinels, name } = connection.options;
  if (sentinels) return `the primary "${name}" of sentinels ${sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
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
 * A duplicate of `client` (same server, credentials, TLS) subscribed to `channels`; resolves
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
  channels: readonly string[],
  onMessage: (message: string) => void,
  onResync: () => void,
  timeout: number,
  connectTimeout?: number,
): Promise<C> {
  const subscriber = duplicateForSubscribing(client, timeout);
  const lastError = quietErrors(subscriber);
  keepSentinelConnection(subscriber);
  subscriber.on('message', (from: string, message: string) => {
    if (channels.includes(from)) onMessage(message);
  });
  try {
    if (connectTimeout !== undefined) await untilReady(subscriber, connectTimeout);
    await withTimeout(subscriber.subscribe(...channels), timeout, 'subscribing to wake-ups');
    subscriber.on('ready', () => {
      // Subscribing twice is harmless; waiting for the confirmation is what matters.
      subscriber.subscribe(...channels).then(onResync, () => {});
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
    drop(subscriber);
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
 * Resolves once `connection` is ready, or rejects after `ms`. Commands issued before then wait in
 * the offline queue under their own command timeout; a first connection that takes several
 * round trips (through Sentinel: a sentinel, then the primary) is waited for here instead.
 */
export function untilReady(connection: RedisConnection, ms: number): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  const ready = new Promise<void>((resolve) => connection.once('ready', () => resolve()));
  return withTimeout(ready, ms, 'connecting');
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
  closedByUs.add(connection);
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

/**
 * Sends the command `send` issues right behind a PING, both in one write, so that a wake-up
 * the command publishes leaves Redis before the command's own reply. Redis writes a turn's
 * output in the reverse order the connections first got some (networking.c links a client
 * into its pending writes at the head: Redis 7 and 8, Valkey too): the PING's reply puts this
 * connection in that list before the script publishes, so the subscriber's message is written
 * first. When the releasing and the woken process share a core, the woken one then runs first
 * instead of after the releaser has handled its reply (README, Performance). Where Redis
 * orders otherwise, or reads the two apart, nothing is lost but the PING. Only when the
 * connection is ready: a queued command is written later, on its own.
 */
export function behindPing<T>(client: Redis, send: () => Promise<T>): Promise<T> {
  const stream = client.status === 'ready' ? client.stream : null;
  if (!stream) return send();
  stream.cork();
  try {
    client.ping().catch(() => {});
    return send();
  } finally {
    stream.uncork();
  }
}

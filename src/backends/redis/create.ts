/**
 * Opens a Redis backend: its command connection (ours, from a URL or a cluster's seed URLs, or
 * the application's own ioredis client), its one subscriber, and on a cluster the beacons that
 * make every master publish events while this client watches (beacons.ts).
 */
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { Backend, BackendContext } from '../../backend.js';
import { asBackendError, ValidationError } from '../../errors.js';
import { commandTimeoutOf, type NetworkBackendOptions } from '../options.js';
import { RedisBackend } from './backend.js';
import { Beacons } from './beacons.js';
import { isCluster, openCluster, type RedisConnection } from './cluster.js';
import { drop, openClient, openSubscriber, quietErrors, untilReady } from './connection.js';
import { Deadlines } from './deadlines.js';
import { refuseEviction } from './eviction.js';
import { SHARD_WAKE_MARK, wakeChannel } from './keys.js';
import { parseWake } from './replies.js';
import { loadScripts } from './scripts.js';
import { ShardWakes } from './shard-wakes.js';
import { Watches } from './watches.js';

/**
 * `url`: our own connection to one Redis. `cluster`: our own Cluster client, from seed node
 * URLs. `client`: the caller's ioredis client, a `Redis` or a `Cluster`. `options`: our own
 * connection from ioredis options (what a module built on this one passes: Sentinel's
 * `sentinels` and `name`, src/backends/sentinel/).
 */
export type RedisTarget =
  | { readonly url: string }
  | { readonly cluster: readonly string[] }
  | { readonly client: Redis | Cluster }
  | { readonly options: RedisOptions };

export interface RedisBackendOptions extends NetworkBackendOptions {
  /**
   * Our own connections: how long their first connection may take, in ms, waited for before any
   * command is sent (default: not waited for; the first commands' own timeout applies).
   */
  readonly connectTimeout?: number;
  /** Connect even when Redis's maxmemory-policy may evict lock keys (eviction.ts); default false. */
  readonly allowEviction?: boolean;
  /**
   * Tests only; production never sets it. The wall clock, in integer µs since the epoch, that
   * the scripts use instead of Redis's TIME (scripts/includes/now.lua), so a differential test
   * can run them and the memory backend on one clock it drives (test/differential/).
   */
  readonly testClock?: () => number;
}

/**
 * Connects a Redis backend. With `{ url }` it opens (and on `close()` quits) its own command
 * connection; with `{ client }` it sends commands on the caller's ioredis client, which it
 * never modifies or closes. Either way it opens one subscriber connection for wake-ups (and
 * the watches' event patterns) and resolves only once that subscription is active.
 */
export async function createRedisBackend(
  target: RedisTarget,
  context: BackendContext,
  options: RedisBackendOptions = {},
): Promise<Backend> {
  const timeout = commandTimeoutOf(options);
  if (options.connectTimeout !== undefined) commandTimeoutOf({ commandTimeout: options.connectTimeout });
  if (options.testClock !== undefined && typeof options.testClock !== 'function') {
    throw new ValidationError('testClock must be a function returning integer µs');
  }
  // The id ends a channel name and sits in '|'-separated records (scripts/includes/records.lua);
  // a leading SHARD_WAKE_MARK is what the scripts read as "woken by SPUBLISH" (keys.ts).
  if (!/^[^|\s#][^|\s]{0,199}$/.test(context.clientId)) {
    throw new ValidationError('clientId must be 1-200 characters without "|" or whitespace, not starting with "#"');
  }
  const owned = !('client' in target);
  let client: RedisConnection | undefined;
  let lastError = (): Error | undefined => undefined;
  try {
    if ('url' in target) ({ client, lastError } = openClient(target.url));
    else if ('options' in target) ({ client, lastError } = openClient(target.options));
    else if ('cluster' in target) {
      client = openCluster(target.cluster, timeout);
      lastError = quietErrors(client);
    } else client = target.client;
    const scripts = await loadScripts(isCluster(client)).catch((error: unknown) => {
      throw asBackendError(error, 'loading the Lua scripts');
    });
    if (owned && options.connectTimeout !== undefined) await untilReady(client, options.connectTimeout);
    const shardWakes = isCluster(client) ? openShardWakes(client, context, timeout) : null;
    const subscriber = await openSubscriber(
      client,
      wakeChannels(context, shardWakes !== null),
      (message) => wake(context, message, shardWakes),
      () => context.onResync(),
      timeout,
      options.connectTimeout,
    );
    if (options.allowEviction !== true) {
      await refuseEviction(client, timeout).catch((error: unknown) => {
        drop(subscriber);
        throw error;
      });
    }
    const beacons = isCluster(client)
      ? new Beacons(client, `${context.prefix}beacon:${context.clientId}`, timeout)
      : null;
    const watches = new Watches(subscriber, context.prefix, timeout, beacons);
    const testClock = options.testClock ?? null;
    // Our own Cluster keeps ioredis's commandTimeout on each node's connection (cluster.ts): a
    // command there may be redirected (MOVED, ASK) or sent again through a failover by ioredis,
    // and a script call retried through a slot migration (scripts.ts), each attempt its own
    // round trip under its own limit.
    const deadlines = owned && isCluster(client) ? null : new Deadlines(timeout);
    const parts = {
      client,
      subscriber,
      shardWakes,
      watches,
      owned,
      scripts,
      context,
      timeout,
      deadlines,
      lastError,
      testClock,
    };
    return new RedisBackend(parts);
  } catch (error) {
    if (owned && client) drop(client);
    throw asBackendError(error, 'connecting to Redis');
  }
}

/**
 * The plain channels this client hears wake-ups on. On a cluster also `<prefix>wake:#<clientId>`:
 * a waiter there marks its client `#<clientId>` so that the scripts SPUBLISH its wake-ups on the
 * name's shard channel (shard-wakes.ts), and the scripts of a client from before that change,
 * sharing the prefix during a rolling upgrade, PUBLISH them to the marked address as it stands.
 * Heard here, such a hand-off reaches the waiter at once instead of at its next re-ask.
 */
function wakeChannels(context: BackendContext, sharded: boolean): string[] {
  const channel = wakeChannel(context.prefix, context.clientId);
  return sharded ? [channel, wakeChannel(context.prefix, SHARD_WAKE_MARK + context.clientId)] : [channel];
}

/** Sharded wake-ups on a cluster (shard-wakes.ts): heard like the others, by `wake`. */
function openShardWakes(cluster: Cluster, context: BackendContext, timeout: number): ShardWakes {
  const shardWakes: ShardWakes = new ShardWakes({
    cluster,
    prefix: context.prefix,
    clientId: context.clientId,
    timeout,
    onMessage: (message) => wake(context, message, shardWakes),
    askAgain: (token) => context.onWake(token, null),
  });
  return shardWakes;
}

/**
 * A message on one of the client's wake channels: a hand-off grant, or a bare token
 * (replies.ts). A granted waiter waits no more, so its shard subscription may go idle.
 */
function wake(context: BackendContext, message: string, shardWakes: ShardWakes | null): void {
  try {
    const { token, grant, retryAfter } = parseWake(message);
    if (grant) shardWakes?.left(token);
    context.onWake(token, grant, retryAfter);
  } catch (error) {
    // A throw here would surface inside ioredis's reply parser and break the connection.
    const detail = error instanceof Error ? error.message : String(error);
    process.emitWarning(`holdfast: a wake-up listener threw: ${detail}`);
  }
}

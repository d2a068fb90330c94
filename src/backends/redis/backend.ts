/**
 * The Redis / Valkey backend: each operation is one Lua script (scripts/*.lua) run atomically
 * on the server's clock, and hand-offs wake waiters through pub/sub. The algorithm is the one
 * described in src/backend.ts; the keys are listed in keys.ts.
 */
import type { Redis } from 'ioredis';
import type {
  AcquireRequest,
  AcquireResult,
  Backend,
  BackendContext,
  ExtendRequest,
  LockState,
} from '../../backend.js';
import { asBackendError, ClosedError, ValidationError } from '../../errors.js';
import { closeConnection, openClient, openSubscriber, withTimeout } from './connection.js';
import { dataKeyPattern, nameKeys, nameOfDataKey, wakeChannel, wakePrefix } from './keys.js';
import { parseAcquire, parseCount, parseFlag, parseInspect } from './replies.js';
import { loadScripts, runScript, runScriptMany, type ScriptCall, type Scripts } from './scripts.js';

export type RedisTarget = { readonly url: string } | { readonly client: Redis };

export interface RedisBackendOptions {
  /** How long one round trip may take before it rejects with a BackendError, in ms. Default 2000. */
  readonly commandTimeout?: number;
}

const DEFAULT_COMMAND_TIMEOUT = 2000;
const SCAN_COUNT = 500;

/**
 * Connects a Redis backend. With `{ url }` it opens (and on `close()` quits) its own command
 * connection; with `{ client }` it sends commands on the caller's ioredis client, which it
 * never modifies or closes. Either way it opens one subscriber connection for wake-ups and
 * resolves only once that subscription is active.
 */
export async function createRedisBackend(
  target: RedisTarget,
  context: BackendContext,
  options: RedisBackendOptions = {},
): Promise<Backend> {
  const timeout = options.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT;
  if (!Number.isInteger(timeout) || timeout <= 0) {
    throw new ValidationError(`commandTimeout must be a positive integer of ms, got ${timeout}`);
  }
  // The id ends a channel name and sits in '|'-separated records (scripts/includes/records.lua).
  if (!/^[^|\s]{1,200}$/.test(context.clientId)) {
    throw new ValidationError('clientId must be 1-200 characters without "|" or whitespace');
  }
  const scripts = await loadScripts().catch((error: unknown) => {
    throw asBackendError(error, 'loading the Lua scripts');
  });
  const owned = 'url' in target;
  let client: Redis | undefined;
  try {
    client = owned ? openClient(target.url, timeout) : target.client;
    const channel = wakeChannel(context.prefix, context.clientId);
    const subscriber = await openSubscriber(
      client,
      channel,
      (token) => wake(context, token),
      () => context.onResync(),
      timeout,
    );
    return new RedisBackend({ client, subscriber, owned, scripts, context, timeout });
  } catch (error) {
    if (owned) client?.disconnect();
    throw asBackendError(error, 'connecting to Redis');
  }
}

function wake(context: BackendContext, token: string): void {
  try {
    context.onWake(token);
  } catch (error) {
    // A throw here would surface inside ioredis's reply parser and break the connection.
    const detail = error instanceof Error ? error.message : String(error);
    process.emitWarning(`holdfast: a wake-up listener threw: ${detail}`);
  }
}

interface Parts {
  readonly client: Redis;
  readonly subscriber: Redis;
  /** true when the command connection is ours to close. */
  readonly owned: boolean;
  readonly scripts: Scripts;
  readonly context: BackendContext;
  readonly timeout: number;
}

class RedisBackend implements Backend {
  readonly clientId: string;
  readonly #parts: Parts;
  readonly #prefix: string;
  readonly #wakePrefix: string;
  #closed = false;

  constructor(parts: Parts) {
    this.#parts = parts;
    this.clientId = parts.context.clientId;
    this.#prefix = parts.context.prefix;
    this.#wakePrefix = wakePrefix(parts.context.prefix);
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const what = `acquire "${request.name}"`;
    const args = [
      request.token,
      request.permits,
      request.limit,
      request.ttl,
      request.enqueue ? '1' : '0',
      request.waiterTtl,
      this.clientId,
      request.owner,
      request.kind,
      this.#wakePrefix,
    ];
    const reply = await this.#run(what, (c, s) => runScript(c, s.acquire, this.#call(request.name, args)));
    return parseAcquire(reply, what);
  }

  async release(name: string, token: string): Promise<boolean> {
    const what = `release "${name}"`;
    const call = this.#call(name, [token, this.#wakePrefix]);
    return parseFlag(await this.#run(what, (c, s) => runScript(c, s.release, call)), what);
  }

  async extend(request: ExtendRequest): Promise<boolean> {
    const what = `extend "${request.name}"`;
    const call = this.#call(request.name, [request.token, request.ttl, this.#wakePrefix]);
    return parseFlag(await this.#run(what, (c, s) => runScript(c, s.extend, call)), what);
  }

  /**
   * One pipeline of extend calls. A call that failed outright rejects the whole batch: a
   * failure says nothing about whether that lease still holds, so it must not read as false.
   */
  async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
    if (requests.length === 0) return [];
    const what = `extend ${requests.length} leases`;
    const calls = requests.map((r) => this.#call(r.name, [r.token, r.ttl, this.#wakePrefix]));
    const results = await this.#run(what, (c, s) => runScriptMany(c, s.extend, calls));
    return results.map((result) => {
      if (!result.ok) throw asBackendError(result.error, what);
      return parseFlag(result.value, what);
    });
  }

  async inspect(name: string): Promise<LockState | null> {
    const what = `inspect "${name}"`;
    const reply = await this.#run(what, (c, s) => runScript(c, s.inspect, this.#call(name, [])));
    return parseInspect(name, reply, what);
  }

  async forceRelease(name: string): Promise<number> {
    const what = `forceRelease "${name}"`;
    const call = this.#call(name, [this.#wakePrefix]);
    return parseCount(await this.#run(what, (c, s) => runScript(c, s['force-release'], call)), what);
  }

  /** SCAN (never KEYS) for data keys, then one pipelined check of which names are live. */
  async list(pattern: string): Promise<string[]> {
    const what = `list "${pattern}"`;
    // SCAN MATCH and its results are not touched by an ioredis keyPrefix; commands on keys are.
    const base = (this.#parts.client.options.keyPrefix ?? '') + this.#prefix;
    const match = dataKeyPattern(base, pattern);
    const names = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.#run(what, (c) => c.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT));
      cursor = next;
      for (const key of keys) {
        const name = nameOfDataKey(base, key);
        if (name !== null) names.add(name);
      }
    } while (cursor !== '0');
    if (names.size === 0) return [];
    return this.#run(what, (c) => this.#liveNames(c, [...names].sort()));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const { client, subscriber, owned, timeout } = this.#parts;
    await Promise.all([
      closeConnection(subscriber, timeout),
      owned ? closeConnection(client, timeout) : Promise.resolve(),
    ]);
  }

  /** A name is live while its latest holder or waiter expiry lies ahead of the server's now. */
  async #liveNames(client: Redis, names: readonly string[]): Promise<string[]> {
    const pipeline = client.pipeline().time();
    for (const name of names) {
      const [holders, , waiters] = nameKeys(this.#prefix, name);
      pipeline.zrange(holders, -1, -1, 'WITHSCORES').zrange(waiters, -1, -1, 'WITHSCORES');
    }
    const replies = (await pipeline.exec()) ?? [];
    const values = replies.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    const [sec, usec] = (values[0] ?? []) as string[];
    const now = Number(sec) * 1000 + Number(usec) / 1000;
    const latest = (index: number): number => Number((values[index] as string[] | undefined)?.[1] ?? 0);
    return names.filter((_, i) => latest(1 + 2 * i) > now || latest(2 + 2 * i) > now);
  }

  #call(name: string, args: ScriptCall['args']): ScriptCall {
    return { keys: nameKeys(this.#prefix, name), args };
  }

  /**
   * One round trip, with every failure turned into a HoldfastError. On a user's client, whose
   * options are not ours to change, the time limit is applied here instead of by ioredis.
   */
  async #run<T>(what: string, send: (client: Redis, scripts: Scripts) => Promise<T>): Promise<T> {
    if (this.#closed) throw new ClosedError();
    const { client, scripts, owned, timeout } = this.#parts;
    try {
      const sent = send(client, scripts);
      return await (owned ? sent : withTimeout(sent, timeout, what));
    } catch (error) {
      throw asBackendError(error, what);
    }
  }
}

/**
 * The Redis / Valkey backend: each operation is one Lua script (scripts/*.lua) run atomically
 * on the server's clock; hand-offs wake waiters and changes are published as events through
 * pub/sub (watches.ts). The algorithm is the one described in src/backend.ts; the keys and
 * channels are listed in keys.ts.
 */
import type { Redis } from 'ioredis';
import type {
  AcquireRequest,
  AcquireResult,
  Backend,
  BackendContext,
  BackendEvent,
  ExtendRequest,
  LockState,
  RateRequest,
  RateResult,
} from '../../backend.js';
import { asBackendError, ClosedError, ValidationError } from '../../errors.js';
import { closeConnection, openClient, openSubscriber, withTimeout } from './connection.js';
import { dataKeyPattern, eventPrefix, nameKeys, nameOfDataKey, rateKeys, wakeChannel, wakePrefix } from './keys.js';
import { parseAcquire, parseCount, parseFlag, parseInspect, parseRate, parseSweep } from './replies.js';
import { loadScripts, runScript, runScriptMany, type ScriptArg, type ScriptCall, type Scripts } from './scripts.js';
import { Watches } from './watches.js';

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
 * never modifies or closes. Either way it opens one subscriber connection for wake-ups (and
 * the watches' event patterns) and resolves only once that subscription is active.
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
    const watches = new Watches(subscriber, context.prefix, timeout);
    return new RedisBackend({ client, subscriber, watches, owned, scripts, context, timeout });
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
  readonly watches: Watches;
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
  readonly #eventPrefix: string;
  #closed = false;

  constructor(parts: Parts) {
    this.#parts = parts;
    this.clientId = parts.context.clientId;
    this.#prefix = parts.context.prefix;
    this.#wakePrefix = wakePrefix(parts.context.prefix);
    this.#eventPrefix = eventPrefix(parts.context.prefix);
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
    ];
    const reply = await this.#run(what, (c, s) => runScript(c, s.acquire, this.#call(request.name, args)));
    return parseAcquire(reply, what);
  }

  async release(name: string, token: string): Promise<boolean> {
    const what = `release "${name}"`;
    const call = this.#call(name, [token]);
    return parseFlag(await this.#run(what, (c, s) => runScript(c, s.release, call)), what);
  }

  async extend(request: ExtendRequest): Promise<boolean> {
    const what = `extend "${request.name}"`;
    const call = this.#call(request.name, [request.token, request.ttl]);
    return parseFlag(await this.#run(what, (c, s) => runScript(c, s.extend, call)), what);
  }

  /**
   * One pipeline of extend calls. A call that failed outright rejects the whole batch: a
   * failure says nothing about whether that lease still holds, so it must not read as false.
   */
  async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
    if (requests.length === 0) return [];
    const what = `extend ${requests.length} leases`;
    const calls = requests.map((r) => this.#call(r.name, [r.token, r.ttl]));
    const results = await this.#run(what, (c, s) => runScriptMany(c, s.extend, calls));
    return results.map((result) => {
      if (!result.ok) throw asBackendError(result.error, what);
      return parseFlag(result.value, what);
    });
  }

  async inspect(name: string): Promise<LockState | null> {
    const what = `inspect "${name}"`;
    const call = { keys: nameKeys(this.#prefix, name), args: [] };
    const reply = await this.#run(what, (c, s) => runScript(c, s.inspect, call));
    return parseInspect(name, reply, what);
  }

  async forceRelease(name: string): Promise<number> {
    const what = `forceRelease "${name}"`;
    const call = this.#call(name, []);
    return parseCount(await this.#run(what, (c, s) => runScript(c, s['force-release'], call)), what);
  }

  async sweep(name: string): Promise<number | null> {
    const what = `sweep "${name}"`;
    const call = this.#call(name, []);
    return parseSweep(await this.#run(what, (c, s) => runScript(c, s.sweep, call)), what);
  }

  async rateTake(request: RateRequest): Promise<RateResult> {
    const { name, algorithm, limit, window, burst, cost, token, waiterTtl } = request;
    const what = `rateTake "${name}"`;
    const args = [algorithm, limit, window, burst, cost, token ?? '', waiterTtl, this.clientId, this.#wakePrefix];
    const call = { keys: rateKeys(this.#prefix, name), args: [...args, this.#eventPrefix, name] };
    return parseRate(await this.#run(what, (c, s) => runScript(c, s['rate-take'], call)), what);
  }

  async rateLeave(name: string, token: string): Promise<void> {
    const what = `rateLeave "${name}"`;
    const call = { keys: rateKeys(this.#prefix, name), args: [token, this.#wakePrefix, this.#eventPrefix, name] };
    parseFlag(await this.#run(what, (c, s) => runScript(c, s['rate-leave'], call)), what);
  }

  async watch(pattern: string, listener: (event: BackendEvent) => void): Promise<() => Promise<void>> {
    if (this.#closed) throw new ClosedError();
    return this.#parts.watches.add(pattern, listener);
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
    const { client, subscriber, watches, owned, timeout } = this.#parts;
    watches.close();
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

  /** A lock script's call: its own arguments, then the tail every such script ends with. */
  #call(name: string, args: readonly ScriptArg[]): ScriptCall {
    return { keys: nameKeys(this.#prefix, name), args: [...args, this.#wakePrefix, this.#eventPrefix, name] };
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

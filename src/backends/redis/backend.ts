/**
 * The Redis / Valkey backend: each operation is one Lua script (scripts/*.lua) run atomically
 * on the server's clock; hand-offs wake waiters and changes are published as events through
 * pub/sub (watches.ts). The algorithm is the one described in src/backend.ts; the keys and
 * channels are listed in keys.ts. The same class runs on one Redis and on a Redis Cluster
 * (cluster.ts): only what spans names (batches, renewals, list) is split by slot. Opened by
 * create.ts.
 */
import {
  type AcquireRequest,
  type AcquireResult,
  type Backend,
  type BackendContext,
  type BackendEvent,
  type Capabilities,
  EVERY_CAPABILITY,
  type EventCapability,
  type ExtendRequest,
  type LockState,
  type RateCapability,
  type RateRequest,
  type RateResult,
  type ReplicaCapability,
  type ValueCapability,
} from '../../backend.js';
import { asBackendError, BackendError, ClosedError, ValidationError } from '../../errors.js';
import { acquireArgs } from './acquire-args.js';
import { isCluster, type RedisConnection, slotOf, watchMasters } from './cluster.js';
import { Coalescer } from './coalescer.js';
import { behindPing, closeConnection, commandFailed } from './connection.js';
import type { Deadlines } from './deadlines.js';
import { type NameKeys, nameKeys, rateKeys, valueKey } from './keys.js';
import { listNames } from './listing.js';
import { ReplicaConfirmations } from './replicas.js';
import { parseAcquire, parseCount, parseFlag, parseInspect, parseRate, parseRelease, parseSweep } from './replies.js';
import { runScript, runScriptMany, type ScriptArg, type ScriptCall, type ScriptName, type Scripts } from './scripts.js';
import type { ShardWakes } from './shard-wakes.js';
import type { Watches } from './watches.js';

/**
 * The names whose keys and error texts a backend keeps (NamesInUse); past it the cache starts
 * afresh, so a client that touches ever new names holds at most this many.
 */
const NAMES_KEPT = 1024;

/** What an acquire and a release of one name send besides their arguments. */
interface NameInUse {
  readonly keys: NameKeys;
  readonly acquire: string;
  readonly release: string;
  /** Others were queued at this client's last release of the name (release.lua's reply 2). */
  contended: boolean;
}

export interface Parts {
  readonly client: RedisConnection;
  readonly subscriber: RedisConnection;
  /** Sharded wake-ups (shard-wakes.ts): a cluster's; null on one Redis. */
  readonly shardWakes: ShardWakes | null;
  readonly watches: Watches;
  /** true when the command connection is ours to close. */
  readonly owned: boolean;
  readonly scripts: Scripts;
  readonly context: BackendContext;
  readonly timeout: number;
  /**
   * Bounds each command this backend sends by `timeout` (deadlines.ts); null on our own
   * Cluster, whose node connections bound each of their commands themselves (create.ts).
   */
  readonly deadlines: Deadlines | null;
  /** The command connection's latest error, when it is ours (a user's client reports its own). */
  readonly lastError: () => Error | undefined;
  readonly testClock: (() => number) | null;
}

/**
 * Every lock and rate-limiter script takes the four keys of one name and starts its ARGV with
 * the prefix (the scripts build the channels `<prefix>wake:<clientId>` and `<prefix>ev:<name>`
 * from it, as keys.ts does) and the name; each script's header lists the rest.
 */
export class RedisBackend implements Backend {
  readonly label = 'redis';
  readonly clientId: string;
  /**
   * Everything: the scripts keep every invariant on the one server, atomically. One Redis also
   * counts replica acknowledgements (`WAIT`, replicas.ts; the server may still refuse it); a
   * cluster does not: WAIT has no key, so ioredis would send it to some node, not the one that
   * took the write.
   */
  readonly capabilities: Capabilities;
  readonly replicas?: ReplicaCapability;
  readonly rates: RateCapability = {
    take: (request) => this.#rateTake(request),
    leave: (name, token) => this.#rateLeave(name, token),
  };
  readonly events: EventCapability = {
    watch: (pattern, listener) => this.#watch(pattern, listener),
    sweep: (name) => this.#sweep(name),
  };
  /** `SET <prefix>value:<key> value PX ttl` and `GET`, under the client's prefix. */
  readonly values: ValueCapability = {
    get: async (key) =>
      (await this.#run(`value read "${key}"`, (c) => c.get(valueKey(this.#prefix, key)))) ?? undefined,
    set: async (key, value, ttl) => {
      await this.#run(`value write "${key}"`, (c) => c.set(valueKey(this.#prefix, key), value, 'PX', ttl));
    },
  };
  readonly #parts: Parts;
  readonly #prefix: string;
  /** Acquires and releases issued in one tick go out as one script call (coalescer.ts). */
  readonly #coalescer: Coalescer;
  /** Stops watching a cluster's slot map for masters that changed; null on one Redis. */
  readonly #unwatchMasters: (() => void) | null;
  /**
   * The keys of the names in use, and the texts naming their acquire and release in errors:
   * built once per name, not twice per acquire+release (~450 bytes of strings and arrays each
   * time, the name's tag escaped by a regex replace).
   */
  readonly #names = new Map<string, NameInUse>();
  /** (Re)connections of the command connection so far (replicas.ts). */
  #epoch = 0;
  readonly #onConnect = (): void => {
    this.#epoch += 1;
  };
  #closed = false;

  constructor(parts: Parts) {
    this.#parts = parts;
    this.clientId = parts.context.clientId;
    this.#prefix = parts.context.prefix;
    const { client, context } = parts;
    this.#unwatchMasters = isCluster(client)
      ? watchMasters(client, (slots) => {
          parts.shardWakes?.moved(slots);
          context.onRecheck?.((name) => slots.has(slotOf(nameKeys(this.#prefix, name)[0])));
        })
      : null;
    this.#coalescer = new Coalescer(
      (what, script, keys, args, wakeFirst) => this.#send(what, script, keys, args, wakeFirst),
      (message, what) => new BackendError(`${what} failed: ${message}`),
      // A closed client stays a ClosedError; a failed round trip names the caller's own operation.
      (error, batchWhat, what) =>
        error instanceof BackendError
          ? new BackendError(error.message.replaceAll(batchWhat, what), { cause: error.cause ?? error })
          : asBackendError(error, what),
      // A script on a cluster touches one slot: batches are made per slot.
      isCluster(client) ? (operation) => slotOf(operation.keys[0] ?? '') : null,
    );
    this.capabilities = isCluster(client) ? EVERY_CAPABILITY : { ...EVERY_CAPABILITY, replicas: true };
    if (!isCluster(client)) {
      client.on('connect', this.#onConnect);
      const confirmations = new ReplicaConfirmations(
        {
          extendMany: (requests) => this.extendMany(requests),
          wait: (count, bound) => this.#run(`waiting for ${count} replicas`, (c) => c.wait(count, bound)),
          epoch: () => this.#epoch,
        },
        parts.timeout,
      );
      this.replicas = {
        confirm: (request, count) => confirmations.confirm(request, count),
        probe: () => confirmations.probe(),
      };
    }
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const { name } = request;
    const inUse = this.#inUse(name);
    const what = inUse.acquire;
    const shard = request.enqueue ? this.#parts.shardWakes : null;
    const args = acquireArgs(this.#prefix, request, shard ? shard.address(name) : this.clientId);
    const result = parseAcquire(await this.#coalesced(what, 'acquire', inUse.keys, args), what);
    shard?.answered(name, request.token, result.granted ? -1 : result.position, request.waiterTtl);
    return result;
  }

  async release(name: string, token: string): Promise<boolean> {
    this.#parts.shardWakes?.left(token);
    const inUse = this.#inUse(name);
    const what = inUse.release;
    const args = [this.#prefix, name, token];
    // On a name that had waiters last time, the wake-up this release may send goes out first.
    const reply = parseRelease(await this.#coalesced(what, 'release', inUse.keys, args, inUse.contended), what);
    inUse.contended = reply === 2;
    return reply !== 0;
  }

  async extend(request: ExtendRequest): Promise<boolean> {
    const what = `extend "${request.name}"`;
    const reply = await this.#eval(what, 'extend', nameKeys(this.#prefix, request.name), this.#extendArgs(request));
    return parseFlag(reply, what);
  }

  /**
   * One pipeline of extend calls. A call that failed outright rejects the whole batch: a
   * failure says nothing about whether that lease still holds, so it must not read as false.
   */
  async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
    if (requests.length === 0) return [];
    const what = `extend ${requests.length} leases`;
    const calls = requests.map(
      (r): ScriptCall => ({ keys: nameKeys(this.#prefix, r.name), args: this.#withTestClock(this.#extendArgs(r)) }),
    );
    const results = await this.#run(what, (c, s) => runScriptMany(c, s.extend, calls));
    return results.map((result) => {
      if (!result.ok) throw commandFailed(this.#parts.client, result.error, what, this.#parts.lastError());
      return parseFlag(result.value, what);
    });
  }

  async inspect(name: string): Promise<LockState | null> {
    const what = `inspect "${name}"`;
    return parseInspect(name, await this.#eval(what, 'inspect', nameKeys(this.#prefix, name), []), what);
  }

  async forceRelease(name: string): Promise<number> {
    const what = `forceRelease "${name}"`;
    const reply = await this.#eval(what, 'force-release', nameKeys(this.#prefix, name), [this.#prefix, name]);
    return parseCount(reply, what);
  }

  async #sweep(name: string): Promise<number | null> {
    const what = `sweep "${name}"`;
    return parseSweep(await this.#eval(what, 'sweep', nameKeys(this.#prefix, name), [this.#prefix, name]), what);
  }

  async #rateTake(request: RateRequest): Promise<RateResult> {
    const { name, algorithm, limit, window, burst, cost, token, waiterTtl } = request;
    const what = `rateTake "${name}"`;
    const shard = token === null ? null : this.#parts.shardWakes;
    const address = shard ? shard.address(name) : this.clientId;
    const args = [this.#prefix, name, algorithm, limit, window, burst, cost, token ?? '', waiterTtl, address];
    const result = parseRate(await this.#eval(what, 'rate-take', rateKeys(this.#prefix, name), args), what);
    if (token !== null) shard?.answered(name, token, result.position, waiterTtl);
    return result;
  }

  async #rateLeave(name: string, token: string): Promise<void> {
    this.#parts.shardWakes?.left(token);
    const what = `rateLeave "${name}"`;
    const args = [this.#prefix, name, token];
    parseFlag(await this.#eval(what, 'rate-leave', rateKeys(this.#prefix, name), args), what);
  }

  async #watch(pattern: string, listener: (event: BackendEvent) => void): Promise<() => Promise<void>> {
    if (this.#closed) throw new ClosedError();
    return this.#parts.watches.add(pattern, listener);
  }

  /**
   * SCAN (never KEYS) for data keys, on every master of a cluster, then which names are live:
   * each round trip under the command timeout, however many a large keyspace takes.
   */
  async list(pattern: string): Promise<string[]> {
    const listing = {
      client: this.#parts.client,
      prefix: this.#prefix,
      testNow: () => this.#testNow(),
      bound: <T>(sent: Promise<T>) => this.#bound(sent),
    };
    return this.#run(`list "${pattern}"`, () => listNames(listing, pattern), false);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // What was issued before close() goes out before the connection is quit.
    this.#coalescer.flush();
    this.#closed = true;
    this.#unwatchMasters?.();
    const { client, subscriber, shardWakes, watches, owned, timeout } = this.#parts;
    client.off('connect', this.#onConnect);
    watches.close();
    await Promise.all([
      closeConnection(subscriber, timeout),
      shardWakes?.close(),
      owned ? closeConnection(client, timeout) : Promise.resolve(),
    ]);
  }

  #inUse(name: string): NameInUse {
    let inUse = this.#names.get(name);
    if (inUse === undefined) {
      if (this.#names.size >= NAMES_KEPT) this.#names.clear();
      inUse = {
        keys: nameKeys(this.#prefix, name),
        acquire: `acquire "${name}"`,
        release: `release "${name}"`,
        contended: false,
      };
      this.#names.set(name, inUse);
    }
    return inUse;
  }

  #extendArgs(request: ExtendRequest): ScriptArg[] {
    return [this.#prefix, request.name, request.token, request.ttl];
  }

  /** The test clock's µs (RedisBackendOptions.testClock), checked, or null in production. */
  #testNow(): number | null {
    const clock = this.#parts.testClock;
    if (clock === null) return null;
    const micros = clock();
    if (!Number.isSafeInteger(micros) || micros <= 0) {
      throw new ValidationError(`testClock must return a positive integer of µs, got ${String(micros)}`);
    }
    return micros;
  }

  /** A script's arguments, plus the test clock as one more (scripts/includes/now.lua) when set. */
  #withTestClock(args: readonly ScriptArg[]): readonly ScriptArg[] {
    const micros = this.#testNow();
    return micros === null ? args : [...args, `t:${micros}`];
  }

  /** An acquire or release: sent at once, or with the others of its tick (coalescer.ts). */
  #coalesced(
    what: string,
    script: 'acquire' | 'release',
    keys: readonly string[],
    args: readonly ScriptArg[],
    wakeFirst = false,
  ): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ClosedError());
    try {
      return this.#coalescer.run({ script, keys, args: this.#withTestClock(args), what, wakeFirst });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** One script call, after the acquires and releases issued before it (order on the connection). */
  #eval(what: string, script: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ClosedError());
    this.#coalescer.flush();
    try {
      return this.#send(what, script, keys, this.#withTestClock(args));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `sent`, or a timeout when it takes longer than the command timeout. */
  #bound<T>(sent: Promise<T>): Promise<T> {
    const { deadlines } = this.#parts;
    return deadlines === null ? sent : deadlines.bound(sent);
  }

  /**
   * One script call, as #run sends any command, but not async: the deadline's own promise
   * turns a failure into the caller's error (Deadlines.bound), which saves a promise and a
   * microtask on each acquire and release.
   */
  #send(
    what: string,
    script: ScriptName,
    keys: readonly string[],
    args: readonly ScriptArg[],
    wakeFirst = false,
  ): Promise<unknown> {
    const { client, scripts, deadlines } = this.#parts;
    let sent: Promise<unknown>;
    try {
      // args carry the test clock already, per operation (#eval, #coalesced)
      const call = { keys, args };
      sent =
        wakeFirst && !isCluster(client)
          ? behindPing(client, () => runScript(client, scripts[script], call))
          : runScript(client, scripts[script], call);
    } catch (error) {
      return Promise.reject(this.#failed(error, what));
    }
    return deadlines === null
      ? sent.catch((error: unknown) => Promise.reject(this.#failed(error, what)))
      : deadlines.bound(sent, this.#failed, what);
  }

  /** A command's failure as its caller hears it. */
  readonly #failed = (error: unknown, what: string): Error =>
    commandFailed(this.#parts.client, error, what, this.#parts.lastError());

  /**
   * One round trip, with every failure turned into a HoldfastError and bounded in time by
   * `deadlines` (not by ioredis: on a user's client its options are not ours to change).
   * `bounded` false: `send` makes several round trips and bounds each itself (#bound).
   */
  async #run<T>(
    what: string,
    send: (client: RedisConnection, scripts: Scripts) => Promise<T>,
    bounded = true,
  ): Promise<T> {
    if (this.#closed) throw new ClosedError();
    this.#coalescer.flush();
    const { client, scripts } = this.#parts;
    try {
      const sent = send(client, scripts);
      return await (bounded ? this.#bound(sent) : sent);
    } catch (error) {
      throw this.#failed(error, what);
    }
  }
}

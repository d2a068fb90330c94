/**
 * The holdfast:// backend: a client of the embedded lock server (`holdfast server`). Every
 * Backend method is one command on the client's one connection (src/server/commands/*), run
 * atomically by the server on its own clock; hand-offs and events arrive as RESP3 pushes.
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
  type ValueCapability,
} from '../../backend.js';
import { asBackendError, ClosedError, ValidationError } from '../../errors.js';
import { commandTimeoutOf, type NetworkBackendOptions } from '../options.js';
import { ServerConnection } from './connection.js';
import {
  parseAcquire,
  parseCount,
  parseFlag,
  parseInspect,
  parseNames,
  parseRate,
  parseSweep,
  parseValue,
  parseWake,
  serverError,
} from './replies.js';
import { RespError, type RespValue } from './resp.js';
import { parseServerUrl } from './url.js';
import { Watches } from './watches.js';

export type ServerBackendOptions = NetworkBackendOptions;

/** The server protocol from which HOLDFAST.RATETAKE takes EXACT (src/server/context.ts). */
const EXACT_RATES_PROTOCOL = 2;
/** Leases per EXTENDMANY, well inside the server's default limit on arguments. */
const EXTEND_BATCH = 256;

/**
 * Connects to `holdfast://[token@]host[:port]`: one TCP connection, set up with
 * `HELLO 3 [AUTH]`, this client's id (so its waiters are woken here, also after a reconnect)
 * and its prefix (the namespace its names live in on the server).
 */
export async function createServerBackend(
  url: string,
  context: BackendContext,
  options: ServerBackendOptions = {},
): Promise<Backend> {
  const timeout = commandTimeoutOf(options);
  if (!/^[\x21-\x7e]{1,200}$/.test(context.clientId)) {
    throw new ValidationError('clientId must be 1-200 printable ASCII characters without spaces');
  }
  const address = parseServerUrl(url);
  let watches: Watches | undefined;
  const connection = await ServerConnection.open({
    address,
    timeout,
    handshake: () => [
      ['HELLO', '3', ...(address.token === null ? [] : ['AUTH', 'default', address.token])],
      ['HOLDFAST.CLIENTID', context.clientId],
      ['HOLDFAST.PREFIX', context.prefix],
      ...(watches?.patterns ?? []).map((pattern) => ['HOLDFAST.WATCH', pattern]),
    ],
    onPush: (items) => onPush(items, context, watches),
    onReconnect: () => context.onResync(),
  });
  const backend = new ServerBackend(connection, context.clientId);
  watches = backend.watches;
  return backend;
}

function onPush(items: RespValue[], context: BackendContext, watches: Watches | undefined): void {
  // By index, not destructured: a hand-off's push takes this path cold, where destructuring
  // runs the array iterator.
  const kind = items[0];
  const wake = kind === 'wake' ? parseWake(items) : null;
  if (wake !== null) {
    try {
      context.onWake(wake.token, wake.grant);
    } catch (error) {
      // A throw here would surface inside the connection's reply loop.
      const detail = error instanceof Error ? error.message : String(error);
      process.emitWarning(`holdfast: a wake-up listener threw: ${detail}`);
    }
  } else if (kind === 'event') {
    watches?.deliver(items[1] ?? null, items[2] ?? null);
  }
  // 'shutdown' and 'closing' announce a close that the connection handles when it happens.
}

class ServerBackend implements Backend {
  readonly label = 'holdfast';
  readonly clientId: string;
  /** The server runs the memory backend's algorithm on its one node: it holds everything. */
  readonly capabilities: Capabilities = EVERY_CAPABILITY;
  readonly rates: RateCapability = {
    take: (request) => this.#rateTake(request),
    leave: (name, token) => this.#rateLeave(name, token),
  };
  readonly events: EventCapability = {
    watch: (pattern, listener) => this.#watch(pattern, listener),
    sweep: (name) => this.#sweep(name),
  };
  /** The server's value store: `HOLDFAST.VGET key` → bulk or nil, `HOLDFAST.VSET key value ttl` → OK. */
  readonly values: ValueCapability = {
    get: async (key) => parseValue(await this.#call(['HOLDFAST.VGET', key], `value read "${key}"`), 'value read'),
    set: async (key, value, ttl) => {
      await this.#call(['HOLDFAST.VSET', key, value, ttl], `value write "${key}"`);
    },
  };
  readonly watches: Watches;
  readonly #connection: ServerConnection;
  #closed = false;

  constructor(connection: ServerConnection, clientId: string) {
    this.#connection = connection;
    this.clientId = clientId;
    this.watches = new Watches((args, what) => this.#call(args, what));
  }

  // acquire and release are written with `then`, not `await`: they are every lease's two round
  // trips, and each async layer added promise hops between the reply and the caller.
  acquire(r: AcquireRequest): Promise<AcquireResult> {
    const what = `acquire "${r.name}"`;
    const enqueue = r.enqueue ? 1 : 0;
    const args = [
      'HOLDFAST.ACQUIRE',
      r.name,
      r.kind,
      r.token,
      r.permits,
      r.limit,
      r.ttl,
      enqueue,
      r.waiterTtl,
      r.claimTtl,
      r.owner,
    ];
    return this.#call(args, what).then((reply) => parseAcquire(reply, what));
  }

  release(name: string, token: string): Promise<boolean> {
    const what = `release "${name}"`;
    return this.#call(['HOLDFAST.RELEASE', name, token], what).then((reply) => parseFlag(reply, what));
  }

  async extend(request: ExtendRequest): Promise<boolean> {
    const what = `extend "${request.name}"`;
    return parseFlag(await this.#call(['HOLDFAST.EXTEND', request.name, request.token, request.ttl], what), what);
  }

  /** One round trip: EXTENDMANY commands of up to 256 leases each, pipelined. */
  async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
    const what = `extend ${requests.length} leases`;
    const batches: Promise<RespValue>[] = [];
    for (let i = 0; i < requests.length; i += EXTEND_BATCH) {
      const batch = requests.slice(i, i + EXTEND_BATCH);
      const args = batch.flatMap((r) => [r.name, r.token, r.ttl]);
      batches.push(this.#call(['HOLDFAST.EXTENDMANY', batch.length, ...args], what));
    }
    const replies = await Promise.all(batches);
    return replies.flatMap((reply) => {
      if (!Array.isArray(reply)) return [parseFlag(reply, what)];
      return reply.map((flag) => parseFlag(flag, what));
    });
  }

  async inspect(name: string): Promise<LockState | null> {
    const what = `inspect "${name}"`;
    return parseInspect(await this.#call(['HOLDFAST.INSPECT', name], what), what);
  }

  async list(pattern: string): Promise<string[]> {
    const what = `list "${pattern}"`;
    return parseNames(await this.#call(['HOLDFAST.LIST', pattern], what), what);
  }

  async forceRelease(name: string): Promise<number> {
    const what = `forceRelease "${name}"`;
    return parseCount(await this.#call(['HOLDFAST.FORCERELEASE', name], what), what);
  }

  async #sweep(name: string): Promise<number | null> {
    const what = `sweep "${name}"`;
    return parseSweep(await this.#call(['HOLDFAST.SWEEP', name], what), what);
  }

  async #rateTake(r: RateRequest): Promise<RateResult> {
    const what = `rateTake "${r.name}"`;
    const args = [r.name, r.algorithm, r.limit, r.window, r.burst, r.cost, r.token ?? '', r.waiterTtl];
    // The exact wait, from a server that has it (protocol 2); an older one refuses the argument.
    if (this.#connection.protocol >= EXACT_RATES_PROTOCOL) args.push('EXACT');
    return parseRate(await this.#call(['HOLDFAST.RATETAKE', ...args], what), what);
  }

  async #rateLeave(name: string, token: string): Promise<void> {
    const what = `rateLeave "${name}"`;
    await this.#call(['HOLDFAST.RATELEAVE', name, token], what);
  }

  async #watch(pattern: string, listener: (event: BackendEvent) => void): Promise<() => Promise<void>> {
    if (this.#closed) throw new ClosedError();
    return this.watches.add(pattern, listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#connection.close();
  }

  /** One round trip, every failure (an error reply included) turned into a HoldfastError. */
  #call(args: readonly (string | number)[], what: string): Promise<RespValue> {
    if (this.#closed) return Promise.reject(new ClosedError());
    return this.#connection.send(args, what).then(
      (reply) => {
        if (reply instanceof RespError) throw serverError(reply, what);
        return reply;
      },
      (error: unknown) => {
        throw asBackendError(error, what);
      },
    );
  }
}

/**
 * holdfast on etcd: every holder and waiter is one key (./keys.ts) on the client's etcd lease
 * for its TTL class (./leases.ts); the queue is the keys in create-revision order and who holds
 * is decided from them alone (./queue.ts); fences are create revisions. Each operation is one
 * etcd Txn; a grant or renewal is confirmed by a keep-alive sent after the request began.
 *
 * Waiting (./waits.ts, ./handoffs.ts): a waiter watches the key that blocks it. At the head it
 * holds from the watch event that deletes the last key keeping it out (the wake-up carries the
 * grant); further back, a change of the key ahead makes this client read the queue as of that
 * revision from the nearest member and grant or re-watch, without the waiter asking. The engine's periodic re-ask
 * (waiterTtl / 3) stays the safety net.
 *
 * Per-holder expiry (./holders.ts): the etcd lease is shared and kept alive while the client
 * runs, so the cluster frees a holder's key when its client stops (crash, pause, partition),
 * after the lease TTL: `ttl` rounded up to whole seconds (etcd's minimum, 2 s by default). A
 * holder that only stops renewing is freed at its own `ttl` by its client.
 */
import type {
  AcquireRequest,
  AcquireResult,
  Backend,
  BackendContext,
  Capabilities,
  EventCapability,
  ExtendRequest,
  LockState,
} from '../../backend.js';
import { LOCK_KINDS } from '../../backend.js';
import { BackendError } from '../../errors.js';
import { EtcdEvents } from './events.js';
import { Handoffs } from './handoffs.js';
import { Holders } from './holders.js';
import { type Entry, entryKey, namePrefix, rangeEnd } from './keys.js';
import { LeaseGoneError, LeasePool } from './leases.js';
import { Marks } from './marks.js';
import { grantedCount, mustTouch, watchTarget } from './queue.js';
import { putEntry, queueOf, rangeOf } from './queue-of.js';
import { moveIfNeeded, touch } from './rewrites.js';
import { CREATE, EQUAL, type EtcdRpc, type TxnResponse } from './rpc.js';
import { describeState, listNames } from './state.js';
import { type Waiting, Waits } from './waits.js';

/** How long a released token is remembered: longer than any request can be in flight. */
const RELEASED_MEMORY = 60_000;

export class EtcdBackend implements Backend {
  readonly label = 'etcd';
  readonly clientId: string;
  readonly capabilities: Capabilities = {
    locks: LOCK_KINDS,
    wakeups: 'grant',
    rateAlgorithms: [],
    events: true,
    values: false,
  };
  readonly events: EventCapability;
  readonly #rpc: EtcdRpc;
  readonly #prefix: string;
  readonly #leases: LeasePool;
  readonly #waits: Waits;
  readonly #marks: Marks;
  readonly #holders: Holders;
  /** Tokens released here lately: an acquire answered after its release is undone (see #acquire). */
  readonly #released = new Set<string>();
  /** Tokens with an acquire in flight here. */
  readonly #asking = new Set<string>();
  readonly #closeClient: () => void;
  #closed = false;

  constructor(rpc: EtcdRpc, context: BackendContext, timeout: number, closeClient: () => void) {
    this.#rpc = rpc;
    this.clientId = context.clientId;
    this.#prefix = context.prefix;
    this.#leases = new LeasePool(rpc, timeout);
    this.#marks = new Marks(rpc, context.prefix, this.#leases);
    this.#holders = new Holders(rpc, this.#marks);
    const handoffs = new Handoffs(
      {
        rpc,
        prefix: context.prefix,
        leases: this.#leases,
        holders: this.#holders,
        onWake: context.onWake,
        closed: () => this.#closed,
      },
      () => this.#waits,
    );
    this.#waits = new Waits(rpc, context.prefix, {
      wake: (token) => context.onWake(token, null),
      expired: (waiting) => {
        // An ask in flight refreshes the entry: its answer sets the next expiry, or grants. A
        // release now would delete the key under an answer that may still say it holds.
        if (this.#asking.has(waiting.token)) return;
        this.release(waiting.name, waiting.token).catch(() => {});
      },
      moved: (waiting, revision) => {
        handoffs.moved(waiting, revision).catch(() => context.onWake(waiting.token, null));
      },
      granted: (waiting, others) => handoffs.granted(waiting, others),
    });
    // A new leader: watches on the old one may never hear another change.
    rpc.onLeaderLost(() => this.#waits.wakeAll());
    this.events = new EtcdEvents(rpc, context.prefix, (name) => this.inspect(name));
    this.#closeClient = closeClient;
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    this.#asking.add(request.token); // the engine asks once at a time per token
    try {
      return await this.#acquire(request);
    } catch (error) {
      // The cluster dropped our lease (a pause longer than its TTL): its keys are gone, and
      // the next attempt puts ours again on a new lease.
      if (!(error instanceof LeaseGoneError)) throw error;
      return await this.#acquire(request);
    } finally {
      this.#asking.delete(request.token);
    }
  }

  async #acquire(request: AcquireRequest): Promise<AcquireResult> {
    const started = performance.now();
    const { name, token } = request;
    const key = entryKey(this.#prefix, name, token);
    const lease = await this.#leases.lease(request.ttl);
    const confirmed = this.#leases.refresh(lease, started);
    confirmed.catch(() => {}); // awaited only on a grant
    // A waiter's key sits on the lease of its claim window, so that a hand-off to a client that
    // died is freed by the cluster after claimTtl (rounded up), not the whole ttl.
    const claimLease = request.enqueue ? await this.#leases.lease(request.claimTtl) : lease;
    const entry: Entry = {
      kind: request.kind,
      permits: request.permits,
      limit: request.limit,
      owner: request.owner,
      ttl: request.ttl,
      claimTtl: request.claimTtl,
    };
    const prefix = namePrefix(this.#prefix, name);
    const range = rangeOf(prefix);
    const response = await this.#rpc
      .txn(
        [{ key: Buffer.from(key), target: CREATE, result: EQUAL, create_revision: 0 }],
        [putEntry(key, entry, prefix, lease, claimLease), range],
        [range],
        `acquire of "${name}"`,
      )
      .catch(async (error: unknown) => {
        if (error instanceof BackendError && /lease not found/.test(error.message)) {
          // The error does not say which lease the cluster dropped (a pause past its TTL can
          // take both): a keep-alive of each tells, and the pool forgets the one that is gone,
          // so the retry puts the key on a new lease instead of failing on the same one again.
          await Promise.allSettled([confirmed, this.#leases.refresh(claimLease, performance.now())]);
          throw new LeaseGoneError(error.message);
        }
        throw error;
      });
    const kvs = response.responses[response.succeeded ? 1 : 0]?.response_range?.kvs ?? [];
    const keys = queueOf(this.#prefix, kvs);
    const index = keys.findIndex((k) => k.token === token);
    const mine = keys[index];
    if (!mine) throw new BackendError(`acquire of "${name}" failed: the key was not there after the write`);
    const granted = grantedCount(keys);
    const revision = BigInt(response.header.revision);
    // Answers can overtake one another (requests go to any member): one that comes back after
    // the token was released, or after a watch already granted it, must not bring back a key or
    // a waiter's watch and expiry (that expiry would later delete a holder's key).
    if (this.#released.has(token)) {
      if (response.succeeded) this.#holders.deleteLater(Buffer.from(key), 0);
      return { granted: false, position: -1, retryAfter: null, serverTime: null };
    }
    if (index >= granted && this.#holders.has(token)) {
      return { granted: false, position: index - granted, retryAfter: null, serverTime: null };
    }
    if (index < granted) {
      const kv = kvs.find((k) => k.key.toString() === key);
      // Held now on a claim window's lease: onto the ttl's lease first, as a renewal would.
      if (mine.lease !== lease && kv) await moveIfNeeded(this.#rpc, { name, token, ttl: request.ttl }, kv, lease);
      await confirmed;
      // Released while this answer waited for its keep-alive (the caller gave up): not a grant.
      if (this.#released.has(token)) return { granted: false, position: -1, retryAfter: null, serverTime: null };
      const wasWaiting = this.#waits.has(token) || !response.succeeded;
      this.#waits.drop(token);
      if (wasWaiting && mustTouch(keys, index, granted)) touch(this.#rpc, Buffer.from(mine.key));
      this.#holders.hold(name, token, key, mine.lease, request.ttl, started);
      return { granted: true, fence: mine.createRevision };
    }
    if (!request.enqueue) {
      await this.#rpc.txn([], [{ request_delete_range: { key: Buffer.from(key) } }], [], `acquire of "${name}"`);
      return { granted: false, position: -1, retryAfter: null, serverTime: null };
    }
    // A hand-off grant is timed from the latest confirmed keep-alive of the waiter key's lease
    // (#granted): one sent since this ask began places every later grant after this answer's
    // serverTime, and gives it the whole claim window, not what an older keep-alive left of it.
    await (mine.lease === lease ? confirmed : this.#leases.refresh(mine.lease, started));
    // Meanwhile the caller may have given up, or the watch of an earlier ask granted it.
    if (this.#released.has(token)) return { granted: false, position: -1, retryAfter: null, serverTime: null };
    if (this.#holders.has(token))
      return { granted: false, position: index - granted, retryAfter: null, serverTime: null };
    const waiting: Waiting = {
      name,
      token,
      key,
      fence: mine.createRevision,
      lease: mine.lease,
      ttl: request.ttl,
      claimTtl: request.claimTtl,
    };
    this.#waits.watch(waiting, watchTarget(keys, index, granted), revision);
    // A waiter that stops asking (its client lives on) leaves the queue after waiterTtl, counted
    // from this answer: one that took longer than that (a leader election, a stalled loop) must
    // not send its waiter out of the queue the moment it arrives, as if it had never asked.
    this.#waits.expireAfter(token, performance.now() + request.waiterTtl);
    // The head hears of every deletion ahead; it is still told the soonest a holder's ttl can end.
    const retryAfter = index === granted ? Math.min(...keys.slice(0, granted).map((k) => k.entry.ttl)) : null;
    return { granted: false, position: index - granted, retryAfter, serverTime: Math.floor(started * 1000) };
  }

  async release(name: string, token: string): Promise<boolean> {
    this.#forget(token);
    this.#waits.drop(token);
    // Whether it held is known here: this client was told of every grant of its tokens.
    const held = this.#holders.unhold(token);
    const key = Buffer.from(entryKey(this.#prefix, name, token));
    let response: TxnResponse;
    try {
      response = await this.#rpc.txn([], [{ request_delete_range: { key } }], [], `release of "${name}"`);
    } catch (error) {
      // The key lives on with this client's lease, which it keeps alive: left alone it would
      // hold (or queue) until the client stops. Keep deleting it until the cluster answers.
      this.#holders.deleteLater(key);
      throw error;
    }
    return held && Number(response.responses[0]?.response_delete_range?.deleted ?? 0) === 1;
  }

  async extend(request: ExtendRequest): Promise<boolean> {
    const [held] = await this.extendMany([request]);
    return held === true;
  }

  async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
    const started = performance.now();
    const keys = requests.map((r) => Buffer.from(entryKey(this.#prefix, r.name, r.token)));
    // The keep-alives go out with the read (a later refresh of the same lease shares them); a
    // lease of a new TTL class (an extend to another ttl) is granted meanwhile.
    const leases = requests.map((r) => this.#leases.lease(r.ttl));
    for (const lease of leases) lease.then((id) => this.#leases.refresh(id, started)).catch(() => {});
    const response = await this.#rpc.txn(
      [],
      keys.map((key) => ({ request_range: { key } })),
      [],
      'renewal',
    );
    const found = response.responses.map((r) => r.response_range?.kvs?.[0]);
    return Promise.all(
      requests.map(async (request, i) => {
        const kv = found[i];
        // Only a holder is extended: this client was told of every grant of its tokens.
        if (!kv || !this.#holders.has(request.token)) return false;
        try {
          const lease = await moveIfNeeded(this.#rpc, request, kv, await (leases[i] as Promise<string>));
          await this.#leases.refresh(lease, started);
          this.#holders.hold(request.name, request.token, kv.key.toString(), lease, request.ttl, started);
          return true;
        } catch (error) {
          if (error instanceof LeaseGoneError) return false;
          throw error;
        }
      }),
    );
  }

  async inspect(name: string): Promise<LockState | null> {
    const base = Buffer.from(namePrefix(this.#prefix, name));
    const kvs = await this.#rpc.range(base, rangeEnd(base), `inspect of "${name}"`);
    return describeState(this.#rpc, name, queueOf(this.#prefix, kvs));
  }

  list(pattern: string): Promise<string[]> {
    return listNames(this.#rpc, this.#prefix, pattern);
  }

  forceRelease(name: string): Promise<number> {
    return this.#marks.forceRelease(name);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#holders.close();
    this.#waits.close();
    await (this.events as EtcdEvents).close();
    await this.#leases.close();
    await this.#rpc.close();
    this.#closeClient();
  }

  /** Remembers a released token long enough for any answer still in flight to arrive. */
  #forget(token: string): void {
    this.#released.add(token);
    setTimeout(() => this.#released.delete(token), RELEASED_MEMORY).unref();
  }
}

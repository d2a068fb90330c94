/**
 * What a waiter's watch firing leads to (./waits.ts), without the waiter asking: at the head,
 * the deletions alone say it holds, and the wake-up carries the grant; further back, the key
 * ahead moved, and the queue as of that revision says whether it holds or what to watch next.
 */
import type { WakeListener } from '../../backend.js';
import type { Holders } from './holders.js';
import { namePrefix, rangeEnd } from './keys.js';
import type { LeasePool } from './leases.js';
import { grantedCount, mustTouch, watchTarget } from './queue.js';
import { queueOf } from './queue-of.js';
import { touch } from './rewrites.js';
import type { EtcdRpc } from './rpc.js';
import type { Waiting, Waits } from './waits.js';

export interface HandoffParts {
  readonly rpc: EtcdRpc;
  readonly prefix: string;
  readonly leases: LeasePool;
  readonly holders: Holders;
  readonly onWake: WakeListener;
  /** true once the client closes: a waiter found then is only told to ask (and is refused). */
  readonly closed: () => boolean;
}

export class Handoffs {
  readonly #parts: HandoffParts;
  readonly #waits: () => Waits;

  /** `waits` is read when a watch fires: the Waits are built with this object's listeners. */
  constructor(parts: HandoffParts, waits: () => Waits) {
    this.#parts = parts;
    this.#waits = waits;
  }

  /**
   * The key ahead of a waiter changed: it may hold now, or wait on another key. Decided from the
   * queue as of that revision, read from the nearest member, without the waiter asking.
   */
  async moved(waiting: Waiting, revision: bigint): Promise<void> {
    const { rpc, prefix, onWake, closed } = this.#parts;
    const range = Buffer.from(namePrefix(prefix, waiting.name));
    const kvs = await rpc.rangeAt(range, rangeEnd(range), revision, `waiting for "${waiting.name}"`);
    if (this.#waits().current(waiting.token) !== waiting) return; // it held or left meanwhile
    const keys = queueOf(prefix, kvs);
    const index = keys.findIndex((k) => k.token === waiting.token);
    if (index < 0 || closed()) {
      onWake(waiting.token, null); // its key is gone: asking again puts it back
      return;
    }
    const granted = grantedCount(keys);
    if (index < granted) this.granted(waiting, mustTouch(keys, index, granted));
    else this.#waits().watch(waiting, watchTarget(keys, index, granted), revision);
  }

  /**
   * A waiter's watch saw the keys that kept it out go: it holds. The wake-up carries the grant,
   * timed on this client's monotonic clock (µs, the same clock as the queued answer's
   * `serverTime`) at the send time of the latest confirmed keep-alive of its lease: the cluster
   * keeps the key at least the lease TTL (≥ ttl ≥ the claim window) from then, so the lease the
   * client builds from it ends first.
   */
  granted(waiting: Waiting, others: boolean): void {
    const { rpc, leases, holders, onWake } = this.#parts;
    this.#waits().drop(waiting.token);
    const confirmedAt = leases.confirmedAt(waiting.lease);
    if (confirmedAt === null) {
      onWake(waiting.token, null); // its lease is gone, and the key with it: ask again
      return;
    }
    // Keep-alives are overdue (a leader change, a loaded machine): a grant timed from the last
    // confirmed one could reach its client with little or none of its claim window left (seen
    // as leases lost inside their critical section in the leader-kill stress run; see
    // test/etcd-races.test.ts). It holds already, so asking again is answered with a grant
    // confirmed by a keep-alive sent then.
    if (performance.now() - confirmedAt > waiting.claimTtl / 2) {
      onWake(waiting.token, null);
      return;
    }
    // Until its client confirms it, a hand-off grant lasts the claim window.
    holders.hold(waiting.name, waiting.token, waiting.key, waiting.lease, waiting.claimTtl, confirmedAt);
    if (others) touch(rpc, Buffer.from(waiting.key));
    onWake(waiting.token, { fence: waiting.fence, serverTime: Math.floor(confirmedAt * 1000) });
  }
}

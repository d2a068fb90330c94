/**
 * Deletions a client makes on the cluster's behalf, each with a mark (./keys.ts) in the same
 * transaction so that watchers report them as `lost` or `expired`, not `released`.
 */
import { BackendError } from '../../errors.js';
import { markKey, namePrefix, rangeEnd } from './keys.js';
import type { LeasePool } from './leases.js';
import { grantedCount } from './queue.js';
import { queueOf } from './queue-of.js';
import { type EtcdRpc, GREATER, LESS, MOD, type RequestOp, VERSION } from './rpc.js';

/** Attempts of force-release against a queue that keeps changing under it. */
const FORCE_ATTEMPTS = 8;
/** The TTL class of the lease a mark is written on (it only has to outlive the watchers' reading). */
const MARK_TTL = 1000;

export class Marks {
  readonly #rpc: EtcdRpc;
  readonly #prefix: string;
  readonly #leases: LeasePool;

  constructor(rpc: EtcdRpc, prefix: string, leases: LeasePool) {
    this.#rpc = rpc;
    this.#prefix = prefix;
    this.#leases = leases;
  }

  /** Deletes every holder of `name` (not its waiters), as of one revision; how many. */
  async forceRelease(name: string): Promise<number> {
    const prefix = Buffer.from(namePrefix(this.#prefix, name));
    const end = rangeEnd(prefix);
    for (let attempt = 0; attempt < FORCE_ATTEMPTS; attempt++) {
      const read = await this.#rpc.txn([], [{ request_range: { key: prefix, range_end: end } }], [], 'force-release');
      const keys = queueOf(this.#prefix, read.responses[0]?.response_range?.kvs ?? []);
      const holders = keys.slice(0, grantedCount(keys));
      if (holders.length === 0) return 0;
      const revision = BigInt(read.header.revision);
      const lease = await this.#leases.lease(MARK_TTL);
      const response = await this.#rpc.txn(
        // Nothing of the name changed since the read: the holders are still exactly these.
        [{ key: prefix, range_end: end, target: MOD, result: LESS, mod_revision: String(revision + 1n) }],
        [
          ...holders.map((h): RequestOp => ({ request_delete_range: { key: Buffer.from(h.key) } })),
          this.#mark(name, Object.fromEntries(holders.map((h) => [h.token, 'lost'])), lease),
        ],
        [],
        `force-release of "${name}"`,
      );
      if (response.succeeded) return holders.length;
    }
    throw new BackendError(`force-release of "${name}" failed: its queue kept changing`);
  }

  /** Deletes a holder key whose ttl ran out unrenewed, marked `expired`. */
  async expire(name: string, key: string, token: string, lease: string): Promise<void> {
    await this.#rpc.txn(
      [{ key: Buffer.from(key), target: VERSION, result: GREATER, version: 0 }],
      [{ request_delete_range: { key: Buffer.from(key) } }, this.#mark(name, { [token]: 'expired' }, lease)],
      [],
      `expiry of "${name}"`,
    );
  }

  #mark(name: string, reasons: Record<string, 'lost' | 'expired'>, lease: string): RequestOp {
    const key = Buffer.from(markKey(this.#prefix, name));
    return { request_put: { key, value: Buffer.from(JSON.stringify(reasons)), lease } };
  }
}

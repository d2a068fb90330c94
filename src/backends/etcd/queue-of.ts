import { decodeEntry, type Entry, encodeEntry, parseKey, rangeEnd } from './keys.js';
import type { QueueKey } from './queue.js';
import { ASCEND, CREATE, EQUAL, type KeyValue, type RequestOp, SORT_CREATE } from './rpc.js';

/** The queue of a name from its keys, oldest first (keys this backend did not write are left out). */
export function queueOf(prefix: string, kvs: readonly KeyValue[]): QueueKey[] {
  const keys: QueueKey[] = [];
  for (const kv of kvs) {
    const key = kv.key.toString();
    const parsed = parseKey(prefix, key);
    const entry = decodeEntry(kv.value);
    if (!parsed || !entry) continue;
    keys.push({ key, token: parsed.token, createRevision: BigInt(kv.create_revision), lease: kv.lease, entry });
  }
  return keys.sort((a, b) => (a.createRevision < b.createRevision ? -1 : a.createRevision > b.createRevision ? 1 : 0));
}

/** A range op over every key of a name (`namePrefix`), sorted by create revision. */
export function rangeOf(prefix: string): RequestOp {
  const key = Buffer.from(prefix);
  return { request_range: { key, range_end: rangeEnd(key), sort_target: SORT_CREATE, sort_order: ASCEND } };
}

/**
 * The put of a new holder or waiter key: on the ttl's lease when the name is empty (it holds at
 * once), else on the claim window's lease with the claim window as its ttl, until it holds and
 * is renewed. One op either way (a nested Txn when the two leases differ).
 */
export function putEntry(key: string, entry: Entry, prefix: string, lease: string, claimLease: string): RequestOp {
  const put = (on: string, ttl: number): RequestOp => ({
    request_put: { key: Buffer.from(key), value: Buffer.from(encodeEntry({ ...entry, ttl })), lease: on },
  });
  if (claimLease === lease) return put(lease, entry.ttl);
  const name = Buffer.from(prefix);
  return {
    request_txn: {
      compare: [{ key: name, range_end: rangeEnd(name), target: CREATE, result: EQUAL, create_revision: 0 }],
      success: [put(lease, entry.ttl)],
      failure: [put(claimLease, entry.claimTtl)],
    },
  };
}

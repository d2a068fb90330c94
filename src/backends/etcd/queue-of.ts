import { decodeEntry, parseKey, rangeEnd } from './keys.js';
import type { QueueKey } from './queue.js';
import { ASCEND, type KeyValue, type RequestOp, SORT_CREATE } from './rpc.js';

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

/** Rewrites of a key in place: same create revision, so the same place in the queue and fence. */
import type { ExtendRequest } from '../../backend.js';
import { decodeEntry, encodeEntry } from './keys.js';
import { LeaseGoneError } from './leases.js';
import { CREATE, EQUAL, type EtcdRpc, GREATER, type KeyValue, VERSION } from './rpc.js';

/**
 * A renewal with another ttl (or the first renewal of a hand-off, still on its claim window's
 * lease) rewrites the key onto `lease` with the new ttl in its entry (inspect and events show
 * it). Rejects with LeaseGoneError when the key is gone.
 */
export async function moveIfNeeded(rpc: EtcdRpc, request: ExtendRequest, kv: KeyValue, lease: string): Promise<string> {
  const entry = decodeEntry(kv.value);
  if (kv.lease === lease && entry?.ttl === request.ttl) return lease;
  const value = entry ? Buffer.from(encodeEntry({ ...entry, ttl: request.ttl })) : kv.value;
  const response = await rpc.txn(
    [{ key: kv.key, target: CREATE, result: EQUAL, create_revision: kv.create_revision }],
    [{ request_put: { key: kv.key, value, lease } }],
    [],
    `extend of "${request.name}"`,
  );
  if (!response.succeeded) throw new LeaseGoneError('the key is gone');
  return lease;
}

/**
 * Wakes the waiter behind a newly granted key, which watches only this key (queue.ts
 * mustTouch): rewrites it as it is (same value and lease).
 */
export function touch(rpc: EtcdRpc, key: Buffer): void {
  rpc
    .txn(
      [{ key, target: VERSION, result: GREATER, version: 0 }],
      [{ request_put: { key, ignore_value: true, ignore_lease: true } }],
      [],
      'wake-up of the next waiter',
    )
    .catch(() => {});
}

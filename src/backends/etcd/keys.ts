/**
 * Every key the etcd backend writes. Under prefix P, a lock, semaphore, read-write lock or
 * election named N is one key per holder or waiter:
 *
 * | key                      | value (JSON)                                  | lease                        |
 * | ------------------------ | --------------------------------------------- | ---------------------------- |
 * | `P` `lock/` enc(N) `/` T | `{k: kind, p: permits, l: limit, o: owner, t: ttl, c: claimTtl}` | the client's lease for its ttl (a waiter: for its claim window) |
 * | `P` `mark/` enc(N)       | `{token: 'lost' \| 'expired'}`                | the deleting client's lease   |
 *
 * `P` `idle` is never written: each client keeps a watch on it, which keeps its watch stream
 * open between waits (./rpc.ts).
 *
 * A mark is written in the same transaction as deletions this client makes on the cluster's
 * behalf (force-release, a holder's ttl running out while its process lives), so watchers can
 * tell them from a release.
 *
 * T is the holder's or waiter's token; enc(N) is N with `%` and `/` escaped, so a name never
 * reaches into another name's range. Order in the queue is the key's create revision, and so is
 * the fence: etcd gives every write a revision from one cluster-wide counter that never goes
 * back (Raft log, restarts from the data dir, leader changes). A key is never re-created under
 * the same token: acquire puts it only while it is absent, and it keeps its create revision
 * when a renewal moves it to another lease.
 */
import type { LockKind } from '../../backend.js';
import { LOCK_KINDS } from '../../backend.js';

export const LOCK_SPACE = 'lock/';

/** What one holder or waiter key says about itself. */
export interface Entry {
  readonly kind: LockKind;
  readonly permits: number;
  readonly limit: number;
  /** Owner JSON text, or ''. */
  readonly owner: string;
  /** The holdfast ttl asked for, ms (events report it as `expiresIn`). */
  readonly ttl: number;
  /** The claim window a hand-off grant lasts until confirmed, ms. */
  readonly claimTtl: number;
}

export function encodeName(name: string): string {
  return name.replace(/%/g, '%25').replace(/\//g, '%2F');
}

export function decodeName(encoded: string): string {
  return encoded.replace(/%2F/g, '/').replace(/%25/g, '%');
}

/** The range that holds every key of name N: `P lock/ enc(N) /`. */
export function namePrefix(prefix: string, name: string): string {
  return `${prefix}${LOCK_SPACE}${encodeName(name)}/`;
}

export function entryKey(prefix: string, name: string, token: string): string {
  return namePrefix(prefix, name) + token;
}

/** The end of a prefix range, as etcd wants it: the prefix with its last byte incremented. */
export function rangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    const byte = end[i] ?? 0;
    if (byte < 0xff) {
      end[i] = byte + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** Name and token of a key under `P lock/`, or null for a key that is not ours. */
export function parseKey(prefix: string, key: string): { name: string; token: string } | null {
  const base = prefix + LOCK_SPACE;
  if (!key.startsWith(base)) return null;
  const rest = key.slice(base.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1 || rest.indexOf('/', slash + 1) >= 0) return null;
  return { name: decodeName(rest.slice(0, slash)), token: rest.slice(slash + 1) };
}

/** The key each client watches and nobody writes (see above). */
export function idleKey(prefix: string): string {
  return `${prefix}idle`;
}

export const MARK_SPACE = 'mark/';

export function markKey(prefix: string, name: string): string {
  return `${prefix}${MARK_SPACE}${encodeName(name)}`;
}

/** The name a mark key is about, or null. */
export function parseMarkKey(prefix: string, key: string): string | null {
  const base = prefix + MARK_SPACE;
  return key.startsWith(base) ? decodeName(key.slice(base.length)) : null;
}

export function encodeEntry(entry: Entry): string {
  const { kind: k, permits: p, limit: l, owner: o, ttl: t, claimTtl: c } = entry;
  return JSON.stringify({ k, p, l, o, t, c });
}

/** The entry a key's value describes; null for a value this backend did not write. */
export function decodeEntry(value: Buffer | string): Entry | null {
  try {
    const raw = JSON.parse(value.toString()) as Record<string, unknown>;
    const kind = LOCK_KINDS.find((k) => k === raw.k);
    const { p, l, o, t, c } = raw;
    if (!kind || !isCount(p) || !isCount(l) || typeof o !== 'string' || !isCount(t) || !isCount(c)) return null;
    return { kind, permits: p, limit: l, owner: o, ttl: t, claimTtl: c };
  } catch {
    return null;
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

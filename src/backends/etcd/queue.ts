/**
 * Who holds and who waits, decided from the keys of one name alone, the same way by every
 * client: keys in create-revision order; walking from the oldest, each key is granted while its
 * permits fit (`used + permits <= its limit`); the first that does not fit, and every key after
 * it, waits (strict FIFO: a large request at the head is not overtaken). Keys only ever join at
 * the end and leave from anywhere, so a granted key stays granted until it is deleted, and the
 * granted keys are always a prefix of the queue: grants happen in create-revision order, which
 * makes the create revision a fence.
 */
import type { Entry } from './keys.js';

export interface QueueKey {
  readonly key: string;
  readonly token: string;
  readonly createRevision: bigint;
  /** The etcd lease the key is attached to (decimal). */
  readonly lease: string;
  readonly entry: Entry;
}

/** How many keys, from the oldest, hold now. */
export function grantedCount(keys: readonly QueueKey[]): number {
  let used = 0;
  for (let i = 0; i < keys.length; i++) {
    const { permits, limit } = (keys[i] as QueueKey).entry;
    if (used + permits > limit) return i;
    used += permits;
  }
  return keys.length;
}

/**
 * What a waiter at `index` watches, so that exactly the change that can let it in wakes it and
 * nothing else does (no herd):
 * - behind another waiter, it can only move when the key just ahead of it does: deleted, or
 *   touched by its client on being granted (see `mustTouch`); it is woken to ask again;
 * - at the head, it waits on the holders ahead of it, and the deletions alone tell it when it
 *   holds (keys never join ahead of it): the one holder's key, or, with several (a semaphore,
 *   readers), exactly those keys, until the permits left among them and its own fit its limit.
 */
export type WatchTarget =
  | { readonly kind: 'behind'; readonly key: string }
  | {
      readonly kind: 'head';
      readonly ahead: ReadonlyMap<string, number>;
      readonly permits: number;
      readonly limit: number;
    };

export function watchTarget(keys: readonly QueueKey[], index: number, granted: number): WatchTarget {
  const ahead = keys[index - 1];
  const mine = keys[index];
  if (!ahead || !mine) throw new Error('a waiter at the front of the queue holds');
  if (index > granted) return { kind: 'behind', key: ahead.key };
  return {
    kind: 'head',
    ahead: new Map(keys.slice(0, index).map((k) => [k.key, k.entry.permits])),
    permits: mine.entry.permits,
    limit: mine.entry.limit,
  };
}

/**
 * Whether a waiter at `index` that has just found itself granted must touch its key to wake the
 * waiter behind it: that waiter watches only this key, and may now hold too, or now heads the
 * queue behind more holders than this one. Not needed for a mutex hand-off (the next waiter
 * keeps waiting on exactly this key).
 */
export function mustTouch(keys: readonly QueueKey[], index: number, granted: number): boolean {
  if (index + 1 >= keys.length) return false;
  return index + 1 < granted || index > 0;
}

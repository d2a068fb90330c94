/**
 * Defaults that more than one part of holdfast relies on, written once: the library, the
 * server's commands and its HTTP API all take them from here.
 */

/** A lease's TTL when none is given, in ms (the library and the server's HTTP API alike). */
export const DEFAULT_TTL = 10_000;

/** Prepended to every key and channel of a client unless connect() is told otherwise. */
export const DEFAULT_PREFIX = 'holdfast:';

/**
 * How long a waiter's queue entry lives unless refreshed, in ms. A waiter that dies leaves the
 * queue after this; live waiters refresh it every third of it.
 */
export const DEFAULT_WAITER_TTL = 6000;

/** Below this a waiter would refresh its entry so often that waiting is no longer cheap. */
export const MIN_WAITER_TTL = 300;

/** The holdfast server's RESP port (`holdfast://host` without a port; `holdfast server`). */
export const DEFAULT_SERVER_PORT = 7700;

/**
 * The claim window of a hand-off: how long a grant to a queued waiter lasts before its client
 * confirms it, so a waiter that died after enqueueing cannot hold the lock for a whole TTL.
 * Computed by the client only, and sent with its request.
 */
export function claimTtl(ttl: number, waiterTtl: number): number {
  return Math.min(ttl, waiterTtl);
}

/**
 * A MemoryStore's tables, for the memory backend only: kept out of the store's public shape
 * (and so out of the shipped `.d.ts` of `MemoryStore`), reachable by whoever imports this
 * module. The store registers them when it is made.
 */
import type { WakeListener } from '../../backend.js';
import type { EventHub } from './events.js';
import type { LockTable } from './locks.js';
import type { RateTable } from './rates.js';
import type { MemoryStore } from './store.js';
import type { ValueTable } from './values.js';

export interface StoreInternals {
  readonly locks: LockTable;
  readonly rates: RateTable;
  readonly values: ValueTable;
  readonly events: EventHub;
  /**
   * Routes hand-offs of `clientId`'s waiters to `onWake`: asynchronously, like pub/sub, unless
   * `inline` (BackendContext.wakesInline), then from inside the operation that caused them.
   */
  attach(clientId: string, onWake: WakeListener, inline: boolean): void;
  detach(clientId: string): void;
}

const INTERNALS = new WeakMap<MemoryStore, StoreInternals>();

export function registerInternals(store: MemoryStore, internals: StoreInternals): void {
  INTERNALS.set(store, internals);
}

export function internalsOf(store: MemoryStore): StoreInternals {
  const internals = INTERNALS.get(store);
  if (internals === undefined) throw new TypeError('not a MemoryStore');
  return internals;
}

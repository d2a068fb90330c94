import type { HandoffGrant } from '../../backend.js';
import type { Clock } from '../../util/clock.js';
import type { EventHub } from './events.js';

/**
 * The backend clock in µs, as `serverTime` carries it (lock and rate results, wake-ups): whole
 * µs of the store's monotonic clock reading `now` (ms).
 */
export function micros(now: number): number {
  return Math.floor(now * 1000);
}

/** What the memory backend's tables share: one clock, one fence sequence, events, wake-ups. */
export interface StoreServices {
  readonly clock: Clock;
  readonly events: EventHub;
  /** max(last fence + 1, wall-clock µs): increasing across names, restarts and data loss. */
  nextFence(): bigint;
  /** Wakes a waiter of a client (asynchronously, like a pub/sub message), with its grant if any. */
  wake(clientId: string, token: string, grant: HandoffGrant | null): void;
}

/**
 * What the dashboard sends to its pages, as JSON: locks as `inspect` sees them, rate limiters as
 * the event stream shows them, events. Fences travel as decimal strings (JSON has no bigint),
 * owners as JSON text.
 */
import type { LockState } from '../backend.js';
import type { LockEvent } from '../engine/watch.js';
import type { Json } from '../owner.js';

export interface HolderView {
  readonly fence: string;
  readonly permits: number;
  /** ms until the backend expires it, when inspected. */
  readonly expiresIn: number;
  readonly owner: string | null;
}

export interface WaiterView {
  readonly permits: number;
  readonly owner: string | null;
}

export interface LockView {
  readonly name: string;
  readonly kind: string | null;
  readonly limit: number | null;
  readonly holders: readonly HolderView[];
  /** In queue order: the first is served next. */
  readonly waiters: readonly WaiterView[];
}

/**
 * A rate limiter as the event stream shows it: the backends cannot list rate limiters or read
 * their fill level, and publish no event for an admission, so a limiter appears once it refuses
 * someone or queues a waiter; its pressure is the refusals of the last minute and its queue.
 */
export interface RateView {
  readonly name: string;
  /** Waiters queued now (joined minus left or admitted, as the events tell). */
  readonly waiting: number;
  /** Refusals per 5 s over the last 60 s, oldest first. */
  readonly refusals: readonly number[];
  /** Wall-clock ms of the latest event about it. */
  readonly lastAt: number;
}

export interface EventView {
  readonly type: string;
  readonly name: string;
  readonly kind: string;
  readonly fence: string | null;
  readonly permits: number;
  readonly owner: string | null;
  readonly at: number;
  readonly expiresIn: number | null;
}

/** An owner as JSON text, or null when none was attached. */
function ownerText(owner: Json): string | null {
  return owner === null ? null : JSON.stringify(owner);
}

export function lockView(state: LockState): LockView {
  return {
    name: state.name,
    kind: state.kind,
    limit: state.limit,
    holders: state.holders.map((h) => ({
      fence: h.fence.toString(),
      permits: h.permits,
      expiresIn: h.expiresIn,
      owner: ownerText(h.owner),
    })),
    waiters: state.waiters.map((w) => ({ permits: w.permits, owner: ownerText(w.owner) })),
  };
}

export function eventView(event: LockEvent): EventView {
  return {
    type: event.type,
    name: event.name,
    kind: event.kind,
    fence: event.fence === null ? null : event.fence.toString(),
    permits: event.permits,
    owner: ownerText(event.owner),
    at: event.at,
    expiresIn: event.expiresIn,
  };
}

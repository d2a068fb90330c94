/**
 * The one rendering of lock state and events, for RESP (as JSON text: INSPECT, event pushes)
 * and HTTP (as the JSON body, SSE data) alike: fences as decimal strings (they exceed 2^53),
 * durations in whole ms rounded up, owners as the JSON value the holder attached, or null.
 */
import type { BackendEvent, LockState } from '../backend.js';
import type { Json } from '../owner.js';

/** A lock's state; `name` as the caller named it (without its namespace). */
export function renderState(name: string, state: LockState): Json {
  return {
    name,
    kind: state.kind,
    limit: state.limit,
    holders: state.holders.map((h) => ({
      fence: h.fence.toString(),
      permits: h.permits,
      expiresIn: Math.ceil(h.expiresIn),
      owner: h.owner,
    })),
    waiters: state.waiters.map((w) => ({ permits: w.permits, owner: w.owner })),
  };
}

export function renderEvent(event: BackendEvent, name: string): Json {
  return {
    type: event.type,
    name,
    kind: event.kind,
    fence: event.fence === null ? null : event.fence.toString(),
    permits: event.permits,
    owner: event.owner,
    at: event.at,
    expiresIn: event.expiresIn === null ? null : Math.ceil(event.expiresIn),
  };
}

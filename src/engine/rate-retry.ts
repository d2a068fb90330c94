import type { RateResult } from '../backend.js';
import type { Turn } from './waiter.js';

/**
 * When a refused rate waiter asks again: at the exact wait, counted from the backend's decision
 * (after the request was sent), where the backend gives both, as a lock's head waiter does
 * (src/engine/waiter.ts); else after the whole ms, counted from the reply; behind others (-1),
 * only when woken.
 */
export function rateRetry(result: RateResult): Turn<never> {
  if (result.retryAfter < 0) return { retryAfter: null };
  const { exactRetryAfter, serverTime } = result;
  return exactRetryAfter !== undefined && serverTime !== undefined
    ? { retryAfter: exactRetryAfter, serverTime }
    : { retryAfter: result.retryAfter };
}

import { BackendError, type HoldfastError } from '../errors.js';

/** A reply of a networked backend that is not of the shape its operation returns. */
export function unexpected(reply: unknown, what: string): HoldfastError {
  return new BackendError(`${what} failed: unexpected reply ${JSON.stringify(reply)?.slice(0, 200)}`);
}

/** `value` (a field of `reply`) as an integer, or the error for an unexpected reply. */
export function integer(value: unknown, reply: unknown, what: string): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw unexpected(reply, what);
}

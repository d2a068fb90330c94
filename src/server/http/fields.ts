/** Checks of request fields: the same rules, and the same ValidationErrors, as the Node client. */
import type { RateAlgorithm } from '../../backend.js';
import { ValidationError } from '../../errors.js';
import { checkMs, checkName, checkPositiveInt, MAX_MS } from '../../util/validate.js';
import { algorithmArg, tokenArg } from '../commands/args.js';

/** A lease's TTL when the request names none: the library's default (10 s), the one constant. */
export { DEFAULT_TTL } from '../../defaults.js';

/** A name from the path, URL-decoded; text that is not UTF-8 could name two things as one. */
export function nameParam(raw: string, what = 'name'): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw new ValidationError(`${what} in the path is not valid percent-encoded UTF-8`);
  }
  return checkName(name, what);
}

/** ms in [1, 2^31-1], or `fallback` when absent. */
export function msField(value: unknown, what: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  return checkMs(value, what);
}

/** `wait` in ms: 0 (the default) tries once and never queues. */
export function waitField(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_MS) {
    throw new ValidationError(`wait must be an integer number of ms in [0, ${MAX_MS}], got ${JSON.stringify(value)}`);
  }
  return value;
}

export function countField(value: unknown, what: string, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  return checkPositiveInt(value, what, max);
}

export function tokenField(value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError('token must be a string (the one acquire returned)');
  return tokenArg(value);
}

export function algorithmField(value: unknown): RateAlgorithm {
  if (value === undefined) return 'sliding-window';
  if (typeof value !== 'string') throw new ValidationError('algorithm must be a string');
  return algorithmArg(value);
}

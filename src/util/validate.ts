import { ValidationError } from '../errors.js';

/** 2^31 - 1: the largest delay a Node.js timer honours. */
export const MAX_MS = 2_147_483_647;
export const MAX_NAME_BYTES = 512;

export function checkName(name: unknown, what = 'name'): string {
  if (typeof name !== 'string') throw new ValidationError(`${what} must be a string, got ${typeof name}`);
  if (name.length === 0) throw new ValidationError(`${what} must not be empty`);
  if (!name.isWellFormed()) throw new ValidationError(`${what} contains a lone surrogate`);
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NAME_BYTES) {
    throw new ValidationError(`${what} is ${bytes} bytes; the limit is ${MAX_NAME_BYTES}`);
  }
  return name;
}

/** A duration in ms: an integer in [1, 2^31-1]. */
export function checkMs(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_MS) {
    throw new ValidationError(`${what} must be an integer number of ms in [1, ${MAX_MS}], got ${show(value)}`);
  }
  return value;
}

export function checkPositiveInt(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ValidationError(`${what} must be an integer in [1, ${max}], got ${show(value)}`);
  }
  return value;
}

export function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new ValidationError(`${what} must be a boolean, got ${show(value)}`);
  return value;
}

export function checkSignal(value: unknown, what = 'signal'): AbortSignal {
  if (!(value instanceof AbortSignal)) throw new ValidationError(`${what} must be an AbortSignal`);
  return value;
}

/**
 * Refuses options objects with keys we do not know: a misspelt `tll` silently ignored would
 * give the user a default TTL they never asked for.
 */
export function checkOptions<T extends object>(value: unknown, allowed: readonly string[], what: string): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(`${what} must be an object`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new ValidationError(`unknown option "${key}" in ${what}; known: ${allowed.join(', ')}`);
    }
  }
  return value as Partial<T>;
}

/** Reads an optional field: undefined stays undefined, anything else is checked. */
export function optional<T>(value: unknown, check: (v: unknown) => T): T | undefined {
  return value === undefined ? undefined : check(value);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

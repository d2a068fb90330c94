import { ValidationError } from './errors.js';

/** A JSON value: what a holder may attach as its `owner` (e.g. `{ host, pid }`). */
export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/** Owners travel with every grant and event, so they stay small. */
export const MAX_OWNER_BYTES = 1024;

/** Serialises an owner for the backend ('' for none), refusing what JSON cannot carry. */
export function encodeOwner(owner: unknown): string {
  if (owner === undefined) return '';
  let text: string | undefined;
  try {
    text = JSON.stringify(owner, (_key, value: unknown) => {
      if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') {
        throw new ValidationError(`owner must be plain JSON; it holds a ${typeof value}`);
      }
      // JSON would silently turn these into null.
      if (typeof value === 'number' && !Number.isFinite(value)) {
        throw new ValidationError(`owner must be plain JSON; it holds ${value}`);
      }
      return value;
    });
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(`owner must be plain JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (text === undefined) throw new ValidationError('owner must be plain JSON');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_OWNER_BYTES)
    throw new ValidationError(`owner is ${bytes} bytes as JSON; the limit is ${MAX_OWNER_BYTES}`);
  return text;
}

/**
 * Owner text from outside the library (a RESP `OWNER` argument, a request built by hand):
 * JSON of at most MAX_OWNER_BYTES, or '' for none. Anything else is refused, on every path.
 */
export function checkOwnerText(text: string): string {
  if (text === '') return text;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_OWNER_BYTES) throw new ValidationError(`owner is ${bytes} bytes; the limit is ${MAX_OWNER_BYTES}`);
  try {
    JSON.parse(text);
  } catch {
    throw new ValidationError(`owner must be JSON text, got ${JSON.stringify(text.slice(0, 64))}`);
  }
  return text;
}

/**
 * The owner as the holder attached it, parsed, or null when none was. Backends call it once,
 * where they read an owner back (their reply parsers).
 */
export function decodeOwner(text: string): Json {
  if (text === '') return null;
  try {
    return JSON.parse(text) as Json;
  } catch {
    // Written by another client that is not holdfast: show it as it is.
    return text;
  }
}

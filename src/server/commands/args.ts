/**
 * Reading command arguments: every argument is untrusted text, checked with the same rules the
 * Node client applies before any I/O, and refused with `-VALIDATION …` otherwise.
 */
import { LOCK_KINDS, type LockKind, RATE_ALGORITHMS, type RateAlgorithm } from '../../backend.js';
import { ValidationError } from '../../errors.js';
import { checkOwnerText } from '../../owner.js';
import { checkMs, checkName, checkPositiveInt } from '../../util/validate.js';
import { isShortAscii } from '../resp-parser.js';

/** The most permits a semaphore (and units a rate limiter) may have, as in the Node client. */
export const MAX_COUNT = 1_000_000;
const MAX_TOKEN_BYTES = 256;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Arguments as text; bytes that are not UTF-8 could name two things as one, so they are refused.
 * A short ASCII argument (nearly all of them) skips the UTF-8 decoder, which was the larger part
 * of reading an acquire's ten arguments.
 */
export function decodeArg(raw: Buffer, index: number): string {
  if (isShortAscii(raw)) return raw.toString('latin1');
  try {
    return utf8.decode(raw);
  } catch {
    throw new ValidationError(`argument ${index} is not valid UTF-8`);
  }
}

/** A short, printable rendering of client text for an error message. */
export function shown(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

export function nameArg(text: string | undefined, what = 'name'): string {
  return checkName(text ?? '', what);
}

export function integerArg(text: string | undefined, what: string): number {
  if (text === undefined || !/^-?\d{1,16}$/.test(text)) {
    throw new ValidationError(`${what} must be an integer, got ${shown(text ?? '')}`);
  }
  return Number(text);
}

export function msArg(text: string | undefined, what: string): number {
  return checkMs(integerArg(text, what), what);
}

export function countArg(text: string | undefined, what: string, max = MAX_COUNT): number {
  return checkPositiveInt(integerArg(text, what), what, max);
}

export function tokenArg(text: string | undefined): string {
  if (text === undefined || text.length === 0) throw new ValidationError('token must not be empty');
  if (Buffer.byteLength(text, 'utf8') > MAX_TOKEN_BYTES) {
    throw new ValidationError(`token is longer than ${MAX_TOKEN_BYTES} bytes`);
  }
  return text;
}

/** JSON text or '' (none): anything else is refused with -VALIDATION, as in the library. */
export function ownerArg(text: string | undefined): string {
  return checkOwnerText(text ?? '');
}

export function kindArg(text: string | undefined): LockKind {
  const kind = LOCK_KINDS.find((k) => k === text);
  if (!kind) throw new ValidationError(`kind must be one of ${LOCK_KINDS.join(', ')}, got ${shown(text ?? '')}`);
  return kind;
}

export function algorithmArg(text: string | undefined): RateAlgorithm {
  const algorithm = RATE_ALGORITHMS.find((a) => a === text?.toLowerCase());
  if (!algorithm) {
    throw new ValidationError(`algorithm must be one of ${RATE_ALGORITHMS.join(', ')}, got ${shown(text ?? '')}`);
  }
  return algorithm;
}

export function flagArg(text: string | undefined, what: string): boolean {
  if (text !== '0' && text !== '1') throw new ValidationError(`${what} must be 0 or 1, got ${shown(text ?? '')}`);
  return text === '1';
}

/**
 * `KEYWORD value` pairs after the fixed arguments (WAIT 500 OWNER {...}), keywords
 * case-insensitive, each at most once, only those in `known`.
 */
export function optionArgs(args: readonly string[], known: readonly string[]): Map<string, string> {
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const keyword = (args[i] ?? '').toUpperCase();
    const value = args[i + 1];
    if (!known.includes(keyword)) {
      throw new ValidationError(`unknown option ${shown(args[i] ?? '')}; known: ${known.join(', ')}`);
    }
    if (value === undefined) throw new ValidationError(`option ${keyword} needs a value`);
    if (options.has(keyword)) throw new ValidationError(`option ${keyword} given twice`);
    options.set(keyword, value);
  }
  return options;
}

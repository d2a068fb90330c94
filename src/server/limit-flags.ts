/**
 * `holdfast server --limit NAME=VALUE` (repeatable): the `limits` of `startServer`, from the
 * command line, with the same names and units (ms, bytes, counts) as the README's limits table.
 */
import { ValidationError } from '../errors.js';
import { DEFAULT_LIMITS, resolveLimits, type ServerLimits } from './limits.js';

const NAMES = Object.keys(DEFAULT_LIMITS) as (keyof ServerLimits)[];

/** The names, a few to a line, indented under the flag's description. */
function nameLines(): string {
  const lines: string[] = [];
  for (let i = 0; i < NAMES.length; i += 4) lines.push(`               ${NAMES.slice(i, i + 4).join(', ')}`);
  return lines.join(',\n');
}

export const LIMIT_USAGE = `  --limit      NAME=VALUE, repeatable: a server limit, in ms, bytes or a count, e.g.
               --limit maxWaitersPerKey=100 --limit idleTimeout=30000; NAME is one of
${nameLines()}`;

/** The limits the flags name; ValidationError (before anything starts) for a bad one. */
export function parseLimitFlags(flags: readonly string[]): Partial<ServerLimits> {
  const limits: Partial<Record<keyof ServerLimits, number>> = {};
  for (const flag of flags) {
    const [name = '', value = ''] = flag.split('=', 2);
    if (!(NAMES as string[]).includes(name)) {
      throw new ValidationError(`--limit ${flag}: no limit "${name}" (the names are listed below)`);
    }
    if (!/^\d+$/.test(value)) throw new ValidationError(`--limit ${flag}: the value must be a whole number`);
    limits[name as keyof ServerLimits] = Number(value);
  }
  // The same range checks startServer makes, so a bad value is a usage error, not a failed start.
  resolveLimits(limits);
  return limits;
}

/** "maxWaitersPerKey=100 idleTimeout=30000", for the banner. */
export function describeLimits(limits: Partial<ServerLimits>): string {
  return Object.entries(limits)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}

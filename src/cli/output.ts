/**
 * Where a command writes: stdout for results, stderr for diagnostics. Colours only when the
 * stream is a terminal (and neither NO_COLOR nor --no-color says otherwise), so piped output
 * and `--json` are plain text.
 */
import type { Writable } from 'node:stream';

export type Colour = 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold';

const CODES: Record<Colour, [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

export interface Io {
  /** One line of results on stdout. */
  out(line: string): void;
  /** One line of diagnostics on stderr. */
  err(line: string): void;
  /** `text` in a colour when stdout is a terminal that takes colours; else as is. */
  paint(colour: Colour, text: string): string;
  readonly json: boolean;
  /** stderr is a terminal: a person is watching (used for hints that scripts need not see). */
  readonly interactive: boolean;
}

export function makeIo(options: { json: boolean; noColor: boolean }, stdout: Writable = process.stdout): Io {
  const tty = (stdout as { isTTY?: boolean }).isTTY === true;
  const colours = tty && !options.json && !options.noColor && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  return {
    out: (line) => stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    paint: (colour, text) => (colours ? `\u001b[${CODES[colour][0]}m${text}\u001b[${CODES[colour][1]}m` : text),
    json: options.json,
    interactive: process.stderr.isTTY === true,
  };
}

/** JSON text of anything holdfast returns: bigints (fences) become decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** ms as a person reads it: 850 ms, 9.8 s, 3 min 20 s. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A URL fit to print: a password or token in it becomes ***. */
export function redact(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, (_all, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    // holdfast://TOKEN@host carries the token where a user name would be.
    return colon < 0 ? `${scheme}***@` : `${scheme}${auth.slice(0, colon)}:***@`;
  });
}

/**
 * Argument parsing shared by every command: `node:util` parseArgs, with its errors turned into
 * one line + usage (exit 2) instead of a TypeError and a stack, and the options every command
 * takes (--url, --prefix, --json, --no-color, --help).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ValidationError } from '../errors.js';
import { checkName } from '../util/validate.js';

/** Where commands connect unless told otherwise: the embedded server's default address. */
export const DEFAULT_URL = 'holdfast://127.0.0.1:7700';

/** A mistake on the command line: printed as one line and the command's usage, exit status 2. */
export class UsageError extends ValidationError {
  readonly usage: string;

  constructor(message: string, usage: string) {
    super(message);
    this.usage = usage;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The options every command understands, before or after its name. */
export const COMMON_OPTIONS = {
  url: { type: 'string' },
  prefix: { type: 'string' },
  json: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export const COMMON_HELP = `common options:
  --url URL      backend (default $HOLDFAST_URL, else ${DEFAULT_URL}):
                 holdfast://[token@]host:port, redis://[user:pass@]host:port[/db], rediss://…, memory://,
                 redis-cluster://[user:pass@]host:port,host:port…, rediss-cluster://…,
                 redis-sentinel://[user:pass@]host:port,host:port…/NAME[?db=N],
                 etcd://[user:pass@]host:port,host:port…, etcds://…[?ca=FILE]
  --prefix P     key prefix the applications use (default holdfast:)
  --json         machine-readable output (one JSON value, or JSON lines for streams)
  --no-color     no colours (colours are only used on a terminal; NO_COLOR is honoured too)
  -h, --help     this help`;

export interface CommonValues {
  readonly url: string;
  readonly prefix: string | undefined;
  readonly json: boolean;
  readonly noColor: boolean;
  readonly help: boolean;
}

export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  readonly common: CommonValues;
}

/** Parses `argv` for one command; unknown flags and bad values become a UsageError. */
export function parse(argv: readonly string[], options: Options, usage: string): Parsed {
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true });
  } catch (error) {
    throw new UsageError(parseMessage(error), usage);
  }
  const values: Record<string, string | boolean | undefined> = {};
  for (const [key, value] of Object.entries(parsed.values)) values[key] = Array.isArray(value) ? value.at(-1) : value;
  const common: CommonValues = {
    url: text(values, 'url') ?? (process.env.HOLDFAST_URL || DEFAULT_URL),
    prefix: text(values, 'prefix'),
    json: values.json === true,
    noColor: values['no-color'] === true,
    help: values.help === true,
  };
  return { values, positionals: parsed.positionals, common };
}

/** A string option's value, if given. */
export function text(values: Parsed['values'], key: string): string | undefined {
  const value = values[key];
  return typeof value === 'string' ? value : undefined;
}

/** parseArgs's messages carry hints meant for programmers; keep the first sentence. */
function parseMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('. ')[0]?.replace(/\.$/, '') ?? message;
}

/** A non-negative integer number of ms from a flag, or a UsageError naming the flag. */
export function msOption(text: string | undefined, flag: string, usage: string, min = 1): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > 2_147_483_647) {
    throw new UsageError(`--${flag} takes a whole number of ms${min > 0 ? ' ≥ 1' : ''}, got "${text}"`, usage);
  }
  return value;
}

/** A positive integer from a flag, or a UsageError naming the flag. */
export function countOption(text: string | undefined, flag: string, usage: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 1_000_000) {
    throw new UsageError(`--${flag} takes a whole number ≥ 1, got "${text}"`, usage);
  }
  return value;
}

/** At most `max` positionals; `names` says what they are, for the message. */
export function positionalsAtMost(positionals: readonly string[], max: number, usage: string): void {
  if (positionals.length > max) {
    throw new UsageError(`unexpected argument "${positionals[max]}"`, usage);
  }
}

/** Exactly one NAME positional. */
export function oneName(positionals: readonly string[], usage: string): string {
  const [name] = positionals;
  if (name === undefined) throw new UsageError('a NAME is needed', usage);
  positionalsAtMost(positionals, 1, usage);
  return nameArg(name, usage);
}

/** A lock name or pattern as the library will check it, refused here before any connection. */
export function nameArg(name: string, usage: string, what = 'name'): string {
  try {
    return checkName(name, what);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), usage);
  }
}

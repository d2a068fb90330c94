/** What every subcommand is, and the one way they connect. */
import { type ConnectOptions, connect, type Holdfast } from '../index.js';
import type { CommonValues } from './args.js';

export interface Command {
  /** The command's own help (`holdfast NAME --help`). */
  readonly usage: string;
  /** Resolves with the exit status; throws UsageError (2) or HoldfastError (1). */
  run(argv: readonly string[]): Promise<number>;
}

/**
 * Connects as the common options say, runs `fn`, and always closes (which releases anything
 * still held). Only called once the arguments are known to be valid: a typo never costs a
 * connection attempt.
 */
export async function withClient<T>(
  common: CommonValues,
  fn: (hf: Holdfast) => Promise<T>,
  options: Omit<ConnectOptions, 'prefix'> = {},
): Promise<T> {
  const hf = await connect(common.url, {
    ...options,
    ...(common.prefix === undefined ? {} : { prefix: common.prefix }),
  });
  try {
    return await fn(hf);
  } finally {
    await hf.close();
  }
}

/**
 * Reading and repairing state holds no lock, so these commands also work on a Redis whose
 * eviction policy `connect()` would refuse for locking (doctor is the place that reports it).
 */
export const READ_ONLY: Omit<ConnectOptions, 'prefix'> = { allowEviction: true };

/** Prints a command's help on stdout; asked-for help is a success. */
export function help(usage: string): number {
  process.stdout.write(`${usage}\n`);
  return 0;
}

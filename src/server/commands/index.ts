/**
 * The command table and the one place a request becomes a reply: names are case-insensitive,
 * arguments are checked for count and UTF-8, and every failure becomes an error reply with a
 * stable code word (nothing a client sends can throw past here).
 */
import type { Connection } from '../caller.js';
import { toErrorReply } from '../errors.js';
import type { RequestArg } from '../resp-parser.js';
import { decodeArg, shown } from './args.js';
import { blockingCommands } from './blocking.js';
import { connectionCommands } from './connection.js';
import { lockCommands } from './locks.js';
import { rateCommands } from './rates.js';
import type { Command, Outcome } from './table.js';
import { valueCommands } from './values.js';
import { watchCommands } from './watch.js';

const COMMANDS = new Map<string, Command>(
  Object.entries({
    ...connectionCommands,
    ...lockCommands,
    ...rateCommands,
    ...watchCommands,
    ...blockingCommands,
    ...valueCommands,
  }),
);

/** The names of every command, for the docs and tests. */
export const COMMAND_NAMES: readonly string[] = [...COMMANDS.keys()];

/** The command's outcome: a reply, or a promise of one that may reject (with a refusal, say). */
export function dispatch(connection: Connection, raw: readonly RequestArg[]): Outcome {
  const first = raw[0] ?? '';
  const given = typeof first === 'string' ? first : first.toString('latin1');
  // Clients send the names as they are in the table: upper-casing is for the rest.
  const name = COMMANDS.has(given) ? given : given.toUpperCase();
  const command = COMMANDS.get(name);
  if (!command) return { error: 'UNKNOWN', message: `unknown command ${shown(name)}` };
  if (!connection.authenticated && command.beforeAuth !== true) {
    return { error: 'NOAUTH', message: 'authentication required: AUTH <token>' };
  }
  if (connection.ctx.closing()) return { error: 'SHUTDOWN', message: 'server stopping' };
  const count = raw.length - 1;
  if (count < command.min || count > command.max) {
    return { error: 'VALIDATION', message: `wrong number of arguments (${count}) for ${name}` };
  }
  try {
    const args: string[] = [];
    for (let i = 1; i < raw.length; i++) {
      const arg = raw[i] as RequestArg;
      args.push(typeof arg === 'string' ? arg : decodeArg(arg, i));
    }
    // A promise that rejects becomes an error reply where it is awaited (session.ts).
    return command.run(connection, args);
  } catch (error) {
    return toErrorReply(error);
  }
}

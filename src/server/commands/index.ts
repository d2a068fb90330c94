/**
 * The command table and the one place a request becomes a reply: names are case-insensitive,
 * arguments are checked for count and UTF-8, and every failure becomes an error reply with a
 * stable code word (nothing a client sends can throw past here).
 */
import type { Reply } from '../reply.js';
import type { Session } from '../session.js';
import { decodeArg, shown, toErrorReply } from './args.js';
import { blockingCommands } from './blocking.js';
import { connectionCommands } from './connection.js';
import { lockCommands } from './locks.js';
import { rateCommands } from './rates.js';
import type { Command } from './table.js';
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

export function dispatch(session: Session, raw: readonly Buffer[]): Reply | Promise<Reply> {
  const name = (raw[0] ?? Buffer.alloc(0)).toString('latin1').toUpperCase();
  const command = COMMANDS.get(name);
  if (!command) return { error: 'UNKNOWN', message: `unknown command ${shown(name)}` };
  if (!session.authenticated && command.beforeAuth !== true) {
    return { error: 'NOAUTH', message: 'authentication required: AUTH <token>' };
  }
  if (session.ctx.closing()) return { error: 'SHUTDOWN', message: 'server stopping' };
  const count = raw.length - 1;
  if (count < command.min || count > command.max) {
    return { error: 'VALIDATION', message: `wrong number of arguments (${count}) for ${name}` };
  }
  try {
    const args = raw.slice(1).map((arg, i) => decodeArg(arg, i + 1));
    const reply = command.run(session, args);
    return reply instanceof Promise ? reply.catch(toErrorReply) : reply;
  } catch (error) {
    return toErrorReply(error);
  }
}

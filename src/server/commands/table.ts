import type { Connection } from '../caller.js';
import type { Reply } from '../reply.js';

/** A reply that holds the connection's later requests until it is there (a wait in line, a PREFIX). */
export interface Blocking {
  readonly blocking: Promise<Reply>;
}

/** What a command gives: a reply now, one to come (later requests run meanwhile), or a blocking one. */
export type Outcome = Reply | Promise<Reply> | Blocking;

/** One command: how many arguments it takes (after its name) and what it does. */
export interface Command {
  readonly min: number;
  readonly max: number;
  /** Allowed before AUTH (AUTH, HELLO, QUIT). */
  readonly beforeAuth?: boolean;
  run(connection: Connection, args: readonly string[]): Outcome;
}

export type CommandGroup = Readonly<Record<string, Command>>;

export function isBlocking(outcome: Outcome): outcome is Blocking {
  return outcome !== null && typeof outcome === 'object' && 'blocking' in outcome;
}

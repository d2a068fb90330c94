import type { Reply } from '../reply.js';
import type { Session } from '../session.js';

/** One command: how many arguments it takes (after its name) and what it does. */
export interface Command {
  readonly min: number;
  readonly max: number;
  /** Allowed before AUTH (AUTH, HELLO, QUIT). */
  readonly beforeAuth?: boolean;
  run(session: Session, args: readonly string[]): Reply | Promise<Reply>;
}

export type CommandGroup = Readonly<Record<string, Command>>;

/**
 * A role a worker process plays in one scenario: started with its name, the backend and its
 * config; it connects a client of its own, handles the demo's messages, and closes on `stop`.
 */
import { connect, type Holdfast } from '../../src/index.js';
import type { Message, Target } from './protocol.js';

export interface RoleIO<C> {
  /** e.g. `agent anna`. */
  readonly name: string;
  readonly target: Target;
  readonly config: C;
  /** To the demo. */
  send(message: Message): void;
}

export interface RoleHandle {
  /** A message from the demo (what it throws or rejects with fails the scenario). */
  onMessage?(message: Message): void | Promise<void>;
  /** Ends the role: stop what runs, close the client. */
  stop(): Promise<void>;
}

export type Role<C> = (io: RoleIO<C>) => Promise<RoleHandle>;

export function connectTarget(target: Target): Promise<Holdfast> {
  return connect(target.url, { prefix: target.prefix });
}

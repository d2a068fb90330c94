/**
 * Who a command runs for, as the commands and the HTTP API see it: a RESP connection or an HTTP
 * client address. Commands depend on these shapes, never on the Session class (which depends
 * on the commands).
 */
import type { ServerContext } from './context.js';
import type { Ledger } from './ledger.js';
import type { LimitedBackend } from './limited.js';
import type { Namespace } from './namespace.js';
import type { Reply } from './reply.js';

export interface Caller {
  readonly ctx: ServerContext;
  /** What this caller holds and awaits, for its limits. */
  readonly ledger: Ledger;
  /** Whose wake-ups the tokens this caller queues itself are. */
  readonly clientId: string;
  /** Where this caller's names live. */
  readonly namespace: Namespace;
  /** The namespace's backend behind the server's limits for this caller. */
  readonly backend: LimitedBackend;
}

/** A RESP connection, as its commands see it. */
export interface Connection extends Caller {
  clientName: string;
  resp3: boolean;
  authenticated: boolean;
  authFailures: number;
  /** WATCH patterns, and how each subscription is ended once it has begun. */
  readonly watches: Map<string, Promise<() => Promise<void>>>;
  /** Claims a client id (HOLDFAST.CLIENTID): wake-ups for it now come here. */
  setClientId(clientId: string): void;
  /** Moves to another namespace (HOLDFAST.PREFIX), opening it if need be. */
  usePrefix(prefix: string): Promise<void>;
  /** An out-of-band message (RESP3 only). */
  push(items: readonly Reply[]): void;
  quitAfterReply(): void;
  /** Aborted when the connection is gone or the server stops: its blocking command ends with it. */
  readonly signal: AbortSignal;
}

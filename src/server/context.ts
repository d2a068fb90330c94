import type { ServerLimits } from './limits.js';
import type { Namespaces } from './namespaces.js';
import type { ClientRegistry } from './registry.js';
import type { ValueCount } from './value-count.js';

/** What every connection of one server shares. */
export interface ServerContext {
  /** The backends served, one per namespace (prefix). */
  readonly namespaces: Namespaces;
  readonly limits: ServerLimits;
  readonly registry: ClientRegistry;
  /** The value keys set through this server, for its value limits. */
  readonly values: ValueCount;
  /** Checks a presented token in constant time; null when no token is configured. */
  readonly checkToken: ((presented: string) => boolean) | null;
  /** true once shutdown began: no new connection or command is taken. */
  readonly closing: () => boolean;
}

/** What a HELLO reply names. */
export const SERVER_NAME = 'holdfast';
/**
 * The protocol's version in the HELLO reply. 2: `HOLDFAST.RATETAKE … EXACT` (the exact wait in
 * µs and the backend's clock after the whole-ms reply), which a client sends only to a server
 * that says 2 or more.
 */
export const PROTOCOL_VERSION = '2';

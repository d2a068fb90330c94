import type { MemoryStore } from '../backends/memory/store.js';
import type { ServerLimits } from './limits.js';
import type { ClientRegistry } from './registry.js';

/** What every connection of one server shares. */
export interface ServerContext {
  /** The one store: every lock, queue and rate limiter of this server, in memory. */
  readonly store: MemoryStore;
  readonly limits: ServerLimits;
  readonly registry: ClientRegistry;
  /** Checks a presented token in constant time; null when no token is configured. */
  readonly checkToken: ((presented: string) => boolean) | null;
  /** true once shutdown began: no new connection or command is taken. */
  readonly closing: () => boolean;
}

/** What a HELLO reply names. */
export const SERVER_NAME = 'holdfast';
export const PROTOCOL_VERSION = '1';

import { ValidationError } from '../errors.js';

/** How long one round trip to a networked backend may take before it rejects, in ms. */
export const DEFAULT_COMMAND_TIMEOUT = 2000;

export interface NetworkBackendOptions {
  /** How long one round trip may take before it rejects with a BackendError, in ms. Default 2000. */
  readonly commandTimeout?: number;
}

/** The checked timeout: backends are also built directly (tests, tools), not only by connect(). */
export function commandTimeoutOf(options: NetworkBackendOptions): number {
  const timeout = options.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT;
  if (!Number.isInteger(timeout) || timeout <= 0) {
    throw new ValidationError(`commandTimeout must be a positive integer of ms, got ${timeout}`);
  }
  return timeout;
}

/** Refusals with a stable code word, and the one place any failure becomes an error reply. */
import { HoldfastError } from '../errors.js';
import type { ErrorReply } from './reply.js';

/** A refusal with a stable code word: `-LIMIT …`, `-NOAUTH …`, `-SHUTDOWN …` */
export class CommandError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'CommandError';
  }
}

/** The refusal itself, also when the library's waiting loop wrapped it (as a BackendError's cause). */
export function refusalOf(error: unknown): { code: string; message: string } | null {
  if (error instanceof CommandError) return error;
  if (error instanceof HoldfastError) {
    return error.cause instanceof CommandError ? error.cause : error;
  }
  return null;
}

export function toErrorReply(error: unknown): ErrorReply {
  const refusal = refusalOf(error);
  if (refusal !== null) return { error: refusal.code, message: refusal.message };
  // A bug of ours, not the client's: say so, and keep serving everyone else.
  return { error: 'ERR', message: `internal error: ${error instanceof Error ? error.message : String(error)}` };
}

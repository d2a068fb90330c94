/**
 * The one error shape of the HTTP API, `{ "error": { "code", "message" } }`, and the status
 * each code travels with. Codes are the RESP server's words where it has one (VALIDATION,
 * LIMIT, NOAUTH, SHUTDOWN, …), so a client can match on them the same way over either protocol.
 */
import { refusalOf } from '../errors.js';

const STATUS: Readonly<Record<string, number>> = {
  VALIDATION: 400,
  NOAUTH: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  LOCK_TIMEOUT: 409,
  LEASE_LOST: 409,
  UNSUPPORTED_MEDIA_TYPE: 415,
  LIMIT: 429,
  RATE_LIMITED: 429,
  UNSUPPORTED: 501,
  BACKEND: 503,
  SHUTDOWN: 503,
};

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;

  /** `status` defaults to the code's usual one (LIMIT: 429; 413 for a body, 408 for a slow request). */
  constructor(code: string, message: string, options: { status?: number; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'HttpError';
    this.code = code;
    this.status = options.status ?? STATUS[code] ?? 500;
    this.headers = options.headers ?? {};
  }
}

/** What any failure becomes; a bug of ours is a 500 that says so, and everyone else carries on. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const refusal = refusalOf(error);
  if (refusal !== null) return new HttpError(refusal.code, refusal.message);
  const detail = error instanceof Error ? error.message : String(error);
  return new HttpError('INTERNAL', `internal error: ${detail}`);
}

export function errorBody(error: HttpError): { error: { code: string; message: string } } {
  return { error: { code: error.code, message: error.message } };
}

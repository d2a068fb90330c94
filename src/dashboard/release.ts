/**
 * The body of `POST /api/release`: `{ name, reason, fences? }` as JSON. JSON only (a browser
 * cannot send it across origins without a preflight, which the dashboard never grants), small,
 * and a reason is required: a force-release takes a lock from a live holder, and whoever looks
 * at the log later should know why.
 */
import type { IncomingMessage } from 'node:http';
import { ValidationError } from '../errors.js';
import { checkName } from '../util/validate.js';

export interface ReleaseRequest {
  readonly name: string;
  readonly reason: string;
  /** The holders' fences the operator saw: refused if they changed since. */
  readonly fences?: readonly string[];
}

const MAX_BODY = 4096;
const MAX_REASON = 500;

export async function readRelease(req: IncomingMessage): Promise<ReleaseRequest> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new ValidationError('send the body as JSON (Content-Type: application/json)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ValidationError(`the body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ValidationError('the body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('the body must be a JSON object');
  }
  const { name, reason, fences, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new ValidationError(`unknown field ${JSON.stringify(unknown.slice(0, 64))}`);
  const text = typeof reason === 'string' ? reason.trim() : '';
  if (text === '' || text.length > MAX_REASON) {
    throw new ValidationError(`a reason is required (1 to ${MAX_REASON} characters)`);
  }
  if (fences !== undefined && !(Array.isArray(fences) && fences.every((f) => typeof f === 'string'))) {
    throw new ValidationError('fences must be a list of strings');
  }
  const checked = { name: checkName(name), reason: text };
  return fences === undefined ? checked : { ...checked, fences: fences as string[] };
}

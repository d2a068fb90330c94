/**
 * Request bodies: JSON objects only, declared as `application/json` (which a browser cannot send
 * across origins without asking first, so a web page cannot drive a loopback server), at most
 * `maxBodyBytes`, with no field the endpoint does not know (a misspelt `tll` must not silently
 * become the default TTL).
 */
import type { IncomingMessage } from 'node:http';
import { ValidationError } from '../../errors.js';
import { HttpError } from './errors.js';

export type Fields = Readonly<Record<string, unknown>>;

/** Reads, checks and parses the body; an empty body is `{}`. */
export async function readFields(req: IncomingMessage, maxBytes: number, known: readonly string[]): Promise<Fields> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'send the body as JSON with Content-Type: application/json');
  }
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const text = (await readBody(req, maxBytes)).toString('utf8');
  return checkFields(text.trim() === '' ? {} : parse(text), known);
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError('LIMIT', `the request body is larger than ${maxBytes} bytes`, { status: 413 });
}

/**
 * Collects at most `maxBytes`. Past that it stops keeping what arrives and refuses; the rest
 * is read and dropped (by Node, after the answer), so the client reads a clean 413, and the
 * server's request timeout bounds how long that may take.
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > maxBytes) return;
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else reject(tooLarge(maxBytes));
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The body (or query) as an object with only `known` keys. */
export function checkFields(value: unknown, known: readonly string[]): Fields {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError('the body must be a JSON object');
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const hint = known.length === 0 ? 'this endpoint takes none' : `known: ${known.join(', ')}`;
      throw new ValidationError(`unknown field ${JSON.stringify(key.slice(0, 64))}; ${hint}`);
    }
  }
  return value as Fields;
}

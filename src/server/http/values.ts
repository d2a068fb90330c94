/**
 * The value store over HTTP (what HOLDFAST.VGET / VSET are over RESP): text with a TTL in the
 * default namespace, within the server's value limits. `cached()` of a Node client of this
 * server reads and writes the same values.
 */
import { ValidationError } from '../../errors.js';
import { readFields } from './body.js';
import { HttpError } from './errors.js';
import { type Exchange, type JsonReply, ok } from './exchange.js';
import { msField } from './fields.js';

/** `GET /v1/values/{key}` → `{ value }`, or 404 when there is none (or it expired). */
export async function getValue(ex: Exchange, key: string): Promise<JsonReply> {
  const value = await ex.client.backend.vget(key);
  if (value === undefined) throw new HttpError('NOT_FOUND', `no value under ${JSON.stringify(key)}`);
  return ok({ value });
}

/** `PUT /v1/values/{key}` with `{ value: string, ttl }` → `{ stored: true, ttl }`. */
export async function putValue(ex: Exchange, key: string): Promise<JsonReply> {
  const body = await readFields(ex.req, ex.ctx.limits.maxBodyBytes, ['value', 'ttl']);
  if (typeof body.value !== 'string') throw new ValidationError('value must be a string (JSON text, say)');
  const ttl = msField(body.ttl, 'ttl');
  await ex.client.backend.vset(key, body.value, ttl);
  return ok({ stored: true, ttl });
}

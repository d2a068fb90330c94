/**
 * The lock endpoints: acquire (with a long-poll wait in the FIFO queue, the server waiting on
 * the caller's behalf exactly as for HOLDFAST.LOCK), extend, release, inspect and list. Each is
 * the same backend call, behind the same limits, as over RESP.
 */
import { encodeOwner } from '../../owner.js';
import { realClock } from '../../util/clock.js';
import { checkName } from '../../util/validate.js';
import { MAX_COUNT } from '../commands/args.js';
import { renderState } from '../render.js';
import { lockFor } from '../waits.js';
import { readFields } from './body.js';
import { HttpError } from './errors.js';
import { type Exchange, type JsonReply, ok } from './exchange.js';
import { countField, DEFAULT_TTL, msField, tokenField, waitField } from './fields.js';

function fields(ex: Exchange, known: readonly string[]) {
  return readFields(ex.req, ex.ctx.limits.maxBodyBytes, known);
}

/** The wall-clock instant (epoch ms, the server's clock) a grant of `ttl` made now runs out. */
function expiresAt(ttl: number): number {
  return Math.floor(realClock.wallMicros() / 1000) + ttl;
}

/** `{ ttl?, wait?, permits?, limit?, owner? }` → `{ token, fence, ttl, expiresAt }`, or 409. */
export async function acquire(ex: Exchange, name: string): Promise<JsonReply | null> {
  const body = await fields(ex, ['ttl', 'wait', 'permits', 'limit', 'owner']);
  const ttl = msField(body.ttl, 'ttl', DEFAULT_TTL);
  const wait = waitField(body.wait);
  const limit = countField(body.limit, 'limit', MAX_COUNT, 1);
  const permits = countField(body.permits, 'permits', limit, 1);
  const owner = encodeOwner(body.owner);
  const kind = limit === 1 ? 'mutex' : 'semaphore';
  const grant = await lockFor(ex.client, { name, kind, permits, limit, ttl, owner, wait }, ex.signal);
  if (grant === null)
    throw new HttpError('LOCK_TIMEOUT', `could not acquire ${JSON.stringify(name)} within ${wait} ms`);
  ex.client.keep(ttl);
  return ok({ token: grant.token, fence: grant.fence.toString(), ttl, expiresAt: expiresAt(ttl) });
}

/** `{ token, ttl? }` → `{ held: true, ttl, expiresAt }`, or 409 LEASE_LOST. */
export async function extend(ex: Exchange, name: string): Promise<JsonReply> {
  const body = await fields(ex, ['token', 'ttl']);
  const token = tokenField(body.token);
  const ttl = msField(body.ttl, 'ttl', DEFAULT_TTL);
  if (!(await ex.client.backend.extend(name, token, ttl))) {
    throw new HttpError('LEASE_LOST', `${JSON.stringify(name)} is no longer held with this token`);
  }
  ex.client.keep(ttl);
  return ok({ held: true, ttl, expiresAt: expiresAt(ttl) });
}

/** `{ token }` → `{ released }`: false when it no longer held (it never frees another holder). */
export async function release(ex: Exchange, name: string): Promise<JsonReply> {
  const body = await fields(ex, ['token']);
  return ok({ released: await ex.client.backend.release(name, tokenField(body.token)) });
}

/** The state as render.ts makes it (the same JSON as HOLDFAST.INSPECT), or 404. */
export async function inspect(ex: Exchange, name: string): Promise<JsonReply> {
  const state = await ex.client.namespace.backend.inspect(name);
  if (state === null) throw new HttpError('NOT_FOUND', `nothing holds or waits for ${JSON.stringify(name)}`);
  return ok(renderState(name, state));
}

/** `?pattern=glob` (default `*`) → `{ names }`, held or awaited. */
export async function list(ex: Exchange): Promise<JsonReply> {
  const pattern = checkName(ex.query.get('pattern') ?? '*', 'pattern');
  return ok({ names: await ex.client.namespace.backend.list(pattern) });
}

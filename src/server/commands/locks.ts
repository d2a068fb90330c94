/**
 * The low-level lock commands, one per Backend method, used by the Node `holdfast://` backend.
 * Each is one synchronous step on the store, so each is atomic.
 */
import type { LockState } from '../../backend.js';
import { ValidationError } from '../../errors.js';
import { escapeGlob } from '../../util/glob.js';
import type { Reply } from '../reply.js';
import type { Session } from '../session.js';
import { anchored } from '../time.js';
import { countArg, flagArg, integerArg, kindArg, MAX_COUNT, msArg, nameArg, ownerArg, tokenArg } from './args.js';
import { acquireOp, extendOp, releaseOp } from './ops.js';
import type { CommandGroup } from './table.js';

/**
 * `name kind token permits limit ttl enqueue waiterTtl claimTtl owner` → `[1, fence]`, or
 * `[0, position, retryAfter | -1, serverTime µs]`. claimTtl is the claim window the client
 * computed (min(ttl, waiterTtl)): how long a hand-off grant to this waiter lasts.
 */
function acquire(session: Session, args: readonly string[]): Reply {
  const [name, kind, token, permits, limit, ttl, enqueue, waiterTtl, claimTtl, owner] = args;
  const max = countArg(limit, 'limit', MAX_COUNT);
  const result = acquireOp(session, {
    name: nameArg(name),
    kind: kindArg(kind),
    token: tokenArg(token),
    permits: countArg(permits, 'permits', max),
    limit: max,
    ttl: msArg(ttl, 'ttl'),
    enqueue: flagArg(enqueue, 'enqueue'),
    waiterTtl: msArg(waiterTtl, 'waiterTtl'),
    claimTtl: msArg(claimTtl, 'claimTtl'),
    owner: ownerArg(owner),
  });
  if (result.granted) return [1, result.fence.toString()];
  const retryAfter = result.retryAfter === null ? -1 : Math.ceil(result.retryAfter);
  return [0, result.position, retryAfter, result.serverTime === null ? -1 : anchored(result.serverTime)];
}

/** `n name1 token1 ttl1 …` → one 0/1 per lease, in order; all checked before any is extended. */
function extendMany(session: Session, args: readonly string[]): Reply {
  const count = integerArg(args[0], 'n');
  if (count < 0 || args.length !== 1 + 3 * count) {
    throw new ValidationError(`EXTENDMANY needs n then n (name, token, ttl) triples; got ${args.length - 1} values`);
  }
  const requests = [];
  for (let i = 1; i < args.length; i += 3) {
    requests.push({ name: nameArg(args[i]), token: tokenArg(args[i + 1]), ttl: msArg(args[i + 2], 'ttl') });
  }
  return requests.map((r) => (extendOp(session, r.name, r.token, r.ttl) ? 1 : 0));
}

/** The state as JSON text (fences as decimal strings), or nil when nothing holds or waits. */
function inspect(session: Session, args: readonly string[]): Reply {
  const name = nameArg(args[0]);
  const state = session.ctx.store.locks.inspect(session.key(name));
  return state === null ? null : stateJson(name, state);
}

export function stateJson(name: string, state: LockState): string {
  return JSON.stringify({
    name,
    kind: state.kind,
    limit: state.limit,
    holders: state.holders.map((h) => ({
      fence: h.fence.toString(),
      permits: h.permits,
      expiresIn: Math.ceil(h.expiresIn),
      owner: h.owner,
    })),
    waiters: state.waiters,
  });
}

function list(session: Session, args: readonly string[]): Reply {
  const pattern = nameArg(args[0], 'pattern');
  const prefix = session.prefix;
  return session.ctx.store.locks.list(escapeGlob(prefix) + pattern).map((key) => key.slice(prefix.length));
}

function sweep(session: Session, args: readonly string[]): Reply {
  const next = session.ctx.store.locks.sweep(session.key(nameArg(args[0])));
  return next === null ? null : Math.ceil(next);
}

export const lockCommands: CommandGroup = {
  'HOLDFAST.ACQUIRE': { min: 10, max: 10, run: acquire },
  'HOLDFAST.RELEASE': {
    min: 2,
    max: 2,
    run: (session, [name, token]) => (releaseOp(session, nameArg(name), tokenArg(token)) ? 1 : 0),
  },
  'HOLDFAST.EXTEND': {
    min: 3,
    max: 3,
    run: (session, [name, token, ttl]) =>
      extendOp(session, nameArg(name), tokenArg(token), msArg(ttl, 'ttl')) ? 1 : 0,
  },
  'HOLDFAST.EXTENDMANY': { min: 1, max: Number.POSITIVE_INFINITY, run: extendMany },
  'HOLDFAST.INSPECT': { min: 1, max: 1, run: inspect },
  'HOLDFAST.LIST': { min: 1, max: 1, run: list },
  'HOLDFAST.FORCERELEASE': {
    min: 1,
    max: 1,
    run: (session, [name]) => session.ctx.store.locks.forceRelease(session.key(nameArg(name))),
  },
  'HOLDFAST.SWEEP': { min: 1, max: 1, run: sweep },
};

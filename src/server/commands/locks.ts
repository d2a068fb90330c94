/**
 * The low-level lock commands, one per Backend method, used by the Node `holdfast://` backend:
 * each is one call of the namespace's backend (behind the server's limits), so each is as
 * atomic as that backend makes it.
 */
import type { AcquireResult } from '../../backend.js';
import { requireCapability } from '../../capabilities.js';
import { ValidationError } from '../../errors.js';
import type { Connection } from '../caller.js';
import { renderState } from '../render.js';
import type { Reply } from '../reply.js';
import { countArg, flagArg, integerArg, kindArg, MAX_COUNT, msArg, nameArg, ownerArg, tokenArg } from './args.js';
import type { CommandGroup } from './table.js';

/**
 * `name kind token permits limit ttl enqueue waiterTtl claimTtl owner` → `[1, fence]`, or
 * `[0, position, retryAfter ms | -1, serverTime µs | -1, retryAfter µs | -1]` (the backend's clock,
 * as it gave it). The ms field is rounded up, for clients that predate the µs one (a fifth field
 * they do not read); the µs one lets a head waiter ask again exactly when the holder's TTL runs
 * out, as it does on Redis, rather than up to a ms later.
 * claimTtl is the claim window the client computed (min(ttl, waiterTtl)): how long a hand-off
 * grant to this waiter lasts. The caller waits itself: wake-ups for the token are pushed to its
 * connection.
 */
function acquire(connection: Connection, args: readonly string[]): Reply | Promise<Reply> {
  const [name, kind, token, permits, limit, ttl, enqueue, waiterTtl, claimTtl, owner] = args;
  const max = countArg(limit, 'limit', MAX_COUNT);
  const request = {
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
  };
  // The memory backend answers at once: then so does this command, with no promise to settle.
  const result = connection.backend.acquireNow(request, true);
  return result instanceof Promise ? result.then(acquireReply) : acquireReply(result);
}

function acquireReply(result: AcquireResult): Reply {
  if (result.granted) return [1, result.fence.toString()];
  const { retryAfter } = result;
  const ms = retryAfter === null ? -1 : Math.ceil(retryAfter);
  const micros = retryAfter === null ? -1 : Math.ceil(Math.max(0, retryAfter) * 1000);
  return [0, result.position, ms, result.serverTime ?? -1, micros];
}

/** 1 when the token held the lock, else 0. */
function flag(held: boolean): Reply {
  return held ? 1 : 0;
}

/** `n name1 token1 ttl1 …` → one 0/1 per lease, in order; all checked before any is extended. */
function extendMany(connection: Connection, args: readonly string[]): Promise<Reply> {
  const count = integerArg(args[0], 'n');
  if (count < 0 || args.length !== 1 + 3 * count) {
    throw new ValidationError(`EXTENDMANY needs n then n (name, token, ttl) triples; got ${args.length - 1} values`);
  }
  const requests = [];
  for (let i = 1; i < args.length; i += 3) {
    requests.push({ name: nameArg(args[i]), token: tokenArg(args[i + 1]), ttl: msArg(args[i + 2], 'ttl') });
  }
  return connection.backend.extendMany(requests).then((held) => held.map((h) => (h ? 1 : 0)));
}

/** The state as JSON text (see render.ts), or nil when nothing holds or waits. */
function inspect(connection: Connection, args: readonly string[]): Promise<Reply> {
  const name = nameArg(args[0]);
  return connection.namespace.backend
    .inspect(name)
    .then((state) => (state === null ? null : JSON.stringify(renderState(name, state))));
}

export const lockCommands: CommandGroup = {
  'HOLDFAST.ACQUIRE': { min: 10, max: 10, run: (c, args) => acquire(c, args) },
  'HOLDFAST.RELEASE': {
    min: 2,
    max: 2,
    run(c, [name, token]) {
      const held = c.backend.releaseNow(nameArg(name), tokenArg(token));
      return held instanceof Promise ? held.then(flag) : flag(held);
    },
  },
  'HOLDFAST.EXTEND': {
    min: 3,
    max: 3,
    run: (c, [name, token, ttl]) =>
      c.backend.extend(nameArg(name), tokenArg(token), msArg(ttl, 'ttl')).then((held) => (held ? 1 : 0)),
  },
  'HOLDFAST.EXTENDMANY': { min: 1, max: Number.POSITIVE_INFINITY, run: extendMany },
  'HOLDFAST.INSPECT': { min: 1, max: 1, run: inspect },
  'HOLDFAST.LIST': {
    min: 1,
    max: 1,
    run: (c, [pattern]) => c.namespace.backend.list(nameArg(pattern, 'pattern')),
  },
  'HOLDFAST.FORCERELEASE': {
    min: 1,
    max: 1,
    run: (c, [name]) => c.namespace.backend.forceRelease(nameArg(name)),
  },
  'HOLDFAST.SWEEP': {
    min: 1,
    max: 1,
    run(c, [raw]) {
      const name = nameArg(raw);
      const events = requireCapability(c.namespace.backend, 'events', `HOLDFAST.SWEEP "${name}"`);
      return events.sweep(name).then((next) => (next === null ? null : Math.ceil(next)));
    },
  },
};

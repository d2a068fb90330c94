/**
 * The value store (the holdfast:// backend's `values`, used by `cached()`): strings with a TTL,
 * in the connection's namespace, kept by the server's MemoryStore on its clock.
 */
import { OK } from '../reply.js';
import { msArg, nameArg } from './args.js';
import type { CommandGroup } from './table.js';

export const valueCommands: CommandGroup = {
  /** `HOLDFAST.VGET key` → the value (bulk string), or nil. */
  'HOLDFAST.VGET': {
    min: 1,
    max: 1,
    run: (session, [key]) => session.ctx.store.values.get(session.key(nameArg(key, 'key'))) ?? null,
  },
  /** `HOLDFAST.VSET key value ttl` → OK. */
  'HOLDFAST.VSET': {
    min: 3,
    max: 3,
    run(session, [key, value, ttl]) {
      session.ctx.store.values.set(session.key(nameArg(key, 'key')), value ?? '', msArg(ttl, 'ttl'));
      return OK;
    },
  },
};

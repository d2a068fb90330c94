/**
 * The value store (the holdfast:// backend's `values`, used by `cached()`): text with a TTL, in
 * the connection's namespace, kept by the served backend's own value store (memory: a map on
 * the store's clock; Redis: SET PX under the prefix), within the server's value limits.
 */
import { OK, type Reply } from '../reply.js';
import { msArg, nameArg } from './args.js';
import type { CommandGroup } from './table.js';

export const valueCommands: CommandGroup = {
  /** `HOLDFAST.VGET key` → the value (bulk string), or nil. */
  'HOLDFAST.VGET': {
    min: 1,
    max: 1,
    run: (c, [key]) => c.backend.vget(nameArg(key, 'key')).then((value): Reply => value ?? null),
  },
  /** `HOLDFAST.VSET key value ttl` → OK; -LIMIT beyond the server's value limits. */
  'HOLDFAST.VSET': {
    min: 3,
    max: 3,
    run: (c, [key, value, ttl]) =>
      c.backend.vset(nameArg(key, 'key'), value ?? '', msArg(ttl, 'ttl')).then((): Reply => OK),
  },
};

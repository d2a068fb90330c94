/**
 * Event subscriptions. Events reach the connection as RESP3 pushes `["event", pattern, json]`
 * (one per matching pattern, like Redis pmessage), so WATCH needs `HELLO 3` first.
 */
import type { BackendEvent } from '../../backend.js';
import { escapeGlob } from '../../util/glob.js';
import { CommandError, nameArg } from './args.js';
import type { CommandGroup } from './table.js';

/** An event as language-neutral JSON: the fence as a decimal string (it can exceed 2^53). */
export function eventJson(event: BackendEvent, name: string): string {
  return JSON.stringify({
    type: event.type,
    name,
    kind: event.kind,
    fence: event.fence === null ? null : event.fence.toString(),
    permits: event.permits,
    owner: event.owner,
    at: event.at,
    expiresIn: event.expiresIn === null ? null : Math.ceil(event.expiresIn),
  });
}

export const watchCommands: CommandGroup = {
  'HOLDFAST.WATCH': {
    min: 1,
    max: 1,
    run(session, [raw]) {
      const pattern = nameArg(raw, 'pattern');
      if (!session.resp3) throw new CommandError('NOPROTO', 'events are pushed: send HELLO 3 before WATCH');
      if (session.watches.has(pattern)) return 1;
      const max = session.ctx.limits.maxWatchesPerConnection;
      if (session.watches.size >= max)
        throw new CommandError('LIMIT', `this connection already watches ${max} patterns`);
      // The namespace in force now is the one this watch sees, even if the prefix changes later.
      const prefix = session.prefix;
      const unsubscribe = session.ctx.store.events.subscribe(escapeGlob(prefix) + pattern, (event) => {
        session.push(['event', pattern, eventJson(event, event.name.slice(prefix.length))]);
      });
      session.watches.set(pattern, unsubscribe);
      return 1;
    },
  },
  'HOLDFAST.UNWATCH': {
    min: 1,
    max: 1,
    run(session, [raw]) {
      const pattern = nameArg(raw, 'pattern');
      const unsubscribe = session.watches.get(pattern);
      session.watches.delete(pattern);
      unsubscribe?.();
      return unsubscribe ? 1 : 0;
    },
  },
};

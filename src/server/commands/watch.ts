/**
 * Event subscriptions. Events reach the connection as RESP3 pushes `["event", pattern, json]`
 * (one per matching pattern, like Redis pmessage; json as render.ts makes it), so WATCH needs
 * `HELLO 3` first. A watch sees the namespace in force when it was made.
 */
import { requireCapability } from '../../capabilities.js';
import { CommandError } from '../errors.js';
import { renderEvent } from '../render.js';
import type { Reply } from '../reply.js';
import { nameArg } from './args.js';
import type { CommandGroup } from './table.js';

export const watchCommands: CommandGroup = {
  'HOLDFAST.WATCH': {
    min: 1,
    max: 1,
    run(connection, [raw]) {
      const pattern = nameArg(raw, 'pattern');
      if (!connection.resp3) throw new CommandError('NOPROTO', 'events are pushed: send HELLO 3 before WATCH');
      const { watches } = connection;
      const known = watches.get(pattern);
      if (known) return known.then((): Reply => 1);
      const max = connection.ctx.limits.maxWatchesPerConnection;
      if (watches.size >= max) throw new CommandError('LIMIT', `this connection already watches ${max} patterns`);
      const events = requireCapability(connection.namespace.backend, 'events', `HOLDFAST.WATCH "${pattern}"`);
      const watching = events.watch(pattern, (event) => {
        connection.push(['event', pattern, JSON.stringify(renderEvent(event, event.name))]);
      });
      watches.set(pattern, watching);
      return watching.then(
        (): Reply => 1,
        (error: unknown) => {
          if (watches.get(pattern) === watching) watches.delete(pattern);
          throw error;
        },
      );
    },
  },
  'HOLDFAST.UNWATCH': {
    min: 1,
    max: 1,
    async run(connection, [raw]) {
      const pattern = nameArg(raw, 'pattern');
      const watching = connection.watches.get(pattern);
      if (!watching) return 0;
      connection.watches.delete(pattern);
      const unsubscribe = await watching;
      await unsubscribe();
      return 1;
    },
  },
};

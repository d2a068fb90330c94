/**
 * The hand-off measure's floor (started by handoff.ts in place of handoff-worker.ts): the same
 * commands (bare-hop.ts), served by a bare Redis PUBLISH reaching a SUBSCRIBE in the other
 * process. No lock does less between a release and a waiter that holds: this is what the
 * machine, the network stack and Redis cost before any library does anything.
 */
import { Redis } from 'ioredis';
import { type BareHop, serveBareHop } from './bare-hop.js';
import { sharedNow } from './stats.js';

const PREFIX = 'bench:floor:';

serveBareHop(async (url, arrived): Promise<BareHop> => {
  const publisher = new Redis(url);
  const subscriber = new Redis(url);
  subscriber.on('message', (from: string) => arrived(from.slice(PREFIX.length), sharedNow()));
  await Promise.all([publisher.ping(), subscriber.ping()]);
  return {
    send: (key) => publisher.publish(PREFIX + key, 'go'),
    subscribe: (key) => subscriber.subscribe(PREFIX + key),
    close: async () => {
      await Promise.all([publisher.quit(), subscriber.quit()]);
    },
  };
});

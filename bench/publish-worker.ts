/**
 * The hand-off measure's floor (started by handoff.ts in place of handoff-worker.ts): the same
 * commands, served by a bare Redis PUBLISH reaching a SUBSCRIBE in the other process. No lock
 * does less between a release and a waiter that holds: this is what the machine, the network
 * stack and Redis cost before any library does anything.
 * - `hold key`: nothing to take; `release key delay`: after `delay` ms, note t0 and PUBLISH.
 * - `wait key`: subscribed (once per key) and waiting for the next message; `acquired key`:
 *   answers with t1, noted the moment that message arrived.
 */
import { Redis } from 'ioredis';
import { type Acquired, Waits } from './handoff-protocol.js';
import { type Command, type Subject, serveWith } from './ipc.js';
import { sharedNow, sleep } from './stats.js';

interface PubSub extends Subject {
  readonly publisher: Redis;
  readonly subscriber: Redis;
}

const channel = (key: string): string => `bench:floor:${key}`;
const subscribed = new Set<string>();
/** Per channel: the waiter's resolve, set by `wait` and called by the next message. */
const arrivals = new Map<string, (t1: number) => void>();
const waiting = new Waits();

async function open(_lib: string, url: string): Promise<PubSub> {
  const publisher = new Redis(url);
  const subscriber = new Redis(url);
  subscriber.on('message', (from: string) => {
    const t1 = sharedNow();
    const arrived = arrivals.get(from);
    arrivals.delete(from);
    arrived?.(t1);
  });
  await Promise.all([publisher.ping(), subscriber.ping()]);
  return {
    publisher,
    subscriber,
    close: async () => {
      await Promise.all([publisher.quit(), subscriber.quit()]);
    },
  };
}

serveWith(open, async (command, { publisher, subscriber }) => {
  const key = String(command.key);
  switch (command.cmd) {
    case 'hold':
      return null;
    case 'release': {
      await sleep(Number(command.delay));
      const t0 = sharedNow();
      await publisher.publish(channel(key), 'go');
      return t0;
    }
    case 'wait': {
      if (!subscribed.has(key)) {
        await subscriber.subscribe(channel(key));
        subscribed.add(key);
      }
      waiting.start(key, new Promise<Acquired>((resolve) => arrivals.set(channel(key), (t1) => resolve({ t1 }))));
      return null;
    }
    case 'acquired':
      return waiting.take(key);
    default:
      throw new Error(`unknown command ${(command as Command).cmd}`);
  }
});

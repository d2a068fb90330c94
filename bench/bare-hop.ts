/**
 * What the hand-off measure's floor workers share (publish-worker.ts through Redis pub/sub,
 * relay-worker.ts through a bare Node relay): handoff-worker.ts's commands, served by one bare
 * message from the releasing process to the waiting one instead of a lock.
 * - `hold key`: nothing to take; `release key delay`: after `delay` ms, note t0 and send.
 * - `wait key`: subscribed (once per key) and waiting for the next message; `acquired key`:
 *   answers with t1, noted the moment that message arrived.
 */
import { type Acquired, Waits } from './handoff-protocol.js';
import { type Command, type Subject, serveWith } from './ipc.js';
import { sharedNow, sleep } from './stats.js';

/** One transport: sends the message for `key`, subscribes to `key` (resolves once it holds). */
export interface BareHop extends Subject {
  send(key: string): Promise<unknown>;
  subscribe(key: string): Promise<unknown>;
}

/** Calls `arrived(key, t1)` when a message for key arrives (t1 on sharedNow). */
export type Arrived = (key: string, t1: number) => void;

/** Serves the commands over the transport `open(url, arrived)` connects. */
export function serveBareHop(open: (url: string, arrived: Arrived) => Promise<BareHop>): void {
  const subscribed = new Set<string>();
  /** Per key: the waiter's resolve, set by `wait` and called by the next message. */
  const arrivals = new Map<string, (t1: number) => void>();
  const waiting = new Waits();
  const arrived: Arrived = (key, t1) => {
    const resolve = arrivals.get(key);
    arrivals.delete(key);
    resolve?.(t1);
  };
  serveWith(
    (_lib, url) => open(url, arrived),
    async (command, hop) => {
      const key = String(command.key);
      switch (command.cmd) {
        case 'hold':
          return null;
        case 'release': {
          await sleep(Number(command.delay));
          const t0 = sharedNow();
          await hop.send(key);
          return t0;
        }
        case 'wait': {
          if (!subscribed.has(key)) {
            await hop.subscribe(key);
            subscribed.add(key);
          }
          waiting.start(key, new Promise<Acquired>((resolve) => arrivals.set(key, (t1) => resolve({ t1 }))));
          return null;
        }
        case 'acquired':
          return waiting.take(key);
        default:
          throw new Error(`unknown command ${(command as Command).cmd}`);
      }
    },
  );
}

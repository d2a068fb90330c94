/**
 * The embedded server's hand-off floor, a worker side (started by handoff.ts in place of
 * handoff-worker.ts): the same commands, served by a line sent through the bare Node relay
 * (relay-server.ts) to the other process, as publish-worker.ts does through Redis.
 * - `hold key`: nothing to take; `release key delay`: after `delay` ms, note t0 and send `P key`.
 * - `wait key`: subscribed (once per key, confirmed) and waiting for the next `M key`;
 *   `acquired key`: answers with t1, noted the moment that line arrived.
 * The URL is `relay://127.0.0.1:<port>`.
 */
import { connect, type Socket } from 'node:net';
import { type Acquired, Waits } from './handoff-protocol.js';
import { type Command, type Subject, serveWith } from './ipc.js';
import { lines } from './relay-lines.js';
import { sharedNow, sleep } from './stats.js';

interface Connection extends Subject {
  readonly socket: Socket;
}

const subscribed = new Set<string>();
/** Per key: the subscription's confirmation, and the waiter's resolve for the next message. */
const confirmations = new Map<string, () => void>();
const arrivals = new Map<string, (t1: number) => void>();
const waiting = new Waits();

async function open(_lib: string, url: string): Promise<Connection> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port), noDelay: true });
  lines(socket, (line) => {
    const t1 = sharedNow();
    const key = line.slice(2);
    if (line.startsWith('M ')) {
      const arrived = arrivals.get(key);
      arrivals.delete(key);
      arrived?.(t1);
    } else if (line.startsWith('A ')) {
      confirmations.get(key)?.();
      confirmations.delete(key);
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    close: async () => {
      socket.destroy();
    },
  };
}

serveWith(open, async (command, { socket }) => {
  const key = String(command.key);
  switch (command.cmd) {
    case 'hold':
      return null;
    case 'release': {
      await sleep(Number(command.delay));
      const t0 = sharedNow();
      socket.write(`P ${key}\n`);
      return t0;
    }
    case 'wait': {
      if (!subscribed.has(key)) {
        await new Promise<void>((resolve) => {
          confirmations.set(key, resolve);
          socket.write(`S ${key}\n`);
        });
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
});

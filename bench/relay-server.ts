/**
 * The embedded server's hand-off floor, the server side (started by handoff.ts through ipc.ts,
 * pinned where the embedded server runs): a bare Node TCP relay, no lock and no protocol beyond
 * lines. `S key` subscribes the connection to key (answered `A key`), `P key` sends `M key` to
 * the key's subscriber. What any Node server costs between a release and a waiter, before it
 * does anything: the counterpart of a bare Redis PUBLISH → SUBSCRIBE (publish-worker.ts).
 * Answers the command `port` with the port it listens on (loopback, chosen by the OS).
 */
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { type Command, type Subject, serveWith } from './ipc.js';
import { lines } from './relay-lines.js';

interface Relay extends Subject {
  readonly port: number;
}

async function open(): Promise<Relay> {
  const subscribers = new Map<string, Socket>();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    lines(socket, (line) => {
      const key = line.slice(2);
      if (line.startsWith('S ')) {
        subscribers.set(key, socket);
        socket.write(`A ${key}\n`);
      } else if (line.startsWith('P ')) {
        subscribers.get(key)?.write(`M ${key}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

serveWith(open, async (command, relay) => {
  if (command.cmd === 'port') return relay.port;
  throw new Error(`unknown command ${(command as Command).cmd}`);
});

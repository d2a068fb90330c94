/**
 * The embedded server's hand-off floor, a worker side (started by handoff.ts in place of
 * handoff-worker.ts): the same commands (bare-hop.ts), served by a line sent through the bare
 * Node relay (relay-server.ts) to the other process, as publish-worker.ts does through Redis:
 * `P key` to send, `S key` to subscribe (confirmed by `A key`), `M key` arrives.
 * The URL is `relay://127.0.0.1:<port>`.
 */
import { connect } from 'node:net';
import { type BareHop, serveBareHop } from './bare-hop.js';
import { lines } from './relay-lines.js';
import { sharedNow } from './stats.js';

serveBareHop(async (url, arrived): Promise<BareHop> => {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port), noDelay: true });
  /** Per key: the subscription's confirmation. */
  const confirmations = new Map<string, () => void>();
  lines(socket, (line) => {
    const t1 = sharedNow();
    const key = line.slice(2);
    if (line.startsWith('M ')) {
      arrived(key, t1);
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
    send: async (key) => socket.write(`P ${key}\n`),
    subscribe: (key) =>
      new Promise<void>((resolve) => {
        confirmations.set(key, resolve);
        socket.write(`S ${key}\n`);
      }),
    close: async () => {
      socket.destroy();
    },
  };
});

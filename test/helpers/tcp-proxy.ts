/**
 * A TCP proxy in front of one redis-server, for fault tests: it passes bytes through, delays
 * them, swallows them (a network that drops packets: the client hears nothing), or resets every
 * connection (and refuses new ones) until told otherwise. Loopback only.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'drop' | 'reset' | { readonly delay: number };

export interface TcpProxy {
  readonly url: string;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  const sockets = new Set<Socket>();
  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (chunk) => {
      if (mode === 'drop') return;
      if (mode === 'pass') to.write(chunk);
      else if (mode !== 'reset') setTimeout(() => to.writable && to.write(chunk), mode.delay);
    });
  };
  const server: Server = createServer((client) => {
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ port: targetPort, host: '127.0.0.1' });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    setMode(next) {
      mode = next;
      if (next === 'reset') for (const socket of sockets) socket.resetAndDestroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

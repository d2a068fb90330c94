/**
 * The HTTP listener beside the RESP one: `node:http` with the server's limits as its timeouts
 * (slowClientTimeout for a request's headers and body, idleTimeout for a kept-alive connection),
 * its connection limit, and a graceful close.
 */
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { BackendError } from '../../errors.js';
import type { ServerContext } from '../context.js';
import type { ServerLimits } from '../limits.js';
import { HttpApi } from './api.js';
import { errorBody, HttpError } from './errors.js';

/** The default HTTP port of `holdfast server`: the RESP port's neighbour. */
export const DEFAULT_HTTP_PORT = 7701;

export interface HttpListener {
  readonly port: number;
  /** Answers long-polls 503, ends event streams, waits for answers in progress, closes. */
  close(graceMs: number): Promise<void>;
}

export async function startHttp(ctx: ServerContext, host: string, port: number): Promise<HttpListener> {
  const { limits } = ctx;
  const api = new HttpApi(ctx);
  const server = createServer(
    {
      headersTimeout: limits.slowClientTimeout,
      requestTimeout: limits.slowClientTimeout,
      keepAliveTimeout: limits.idleTimeout,
      // How often those timeouts are checked: often enough to honour a short one.
      connectionsCheckingInterval: Math.min(30_000, Math.max(10, Math.floor(limits.slowClientTimeout / 4))),
    },
    (req, res) => api.handle(req, res),
  );
  let sockets = 0;
  server.on('connection', (socket: Duplex) => {
    sockets++;
    socket.once('close', () => sockets--);
    if (sockets > limits.maxConnections)
      refuse(socket, new HttpError('LIMIT', 'too many connections', { status: 503 }));
  });
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) =>
    refuse(socket, clientError(error, limits)),
  );
  const bound = await listen(server, host, port).catch((error: unknown) => {
    api.close();
    throw error;
  });
  return {
    port: bound,
    async close(graceMs) {
      api.shutdown();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const grace = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([api.answered(), grace]);
      // Every answer went out (or the grace ran out): what is left is idle, or too slow.
      server.closeAllConnections();
      api.close();
      await closed;
    },
  };
}

/** What a request Node could not parse, or that came too slowly, is told. */
function clientError(error: Error & { code?: string }, limits: ServerLimits): HttpError | null {
  switch (error.code) {
    case 'ECONNRESET':
      return null;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new HttpError('LIMIT', `request not completed within ${limits.slowClientTimeout} ms`, { status: 408 });
    case 'HPE_HEADER_OVERFLOW':
      return new HttpError('LIMIT', 'request headers too large', { status: 431 });
    default:
      return new HttpError('VALIDATION', `malformed HTTP request: ${error.message}`);
  }
}

/**
 * Answers a connection that cannot be served with a bare JSON error and closes it; just closes
 * it when it is gone, or while an answer is on its way (bytes of ours would corrupt that one).
 */
function refuse(socket: Duplex, error: HttpError | null): void {
  socket.on('error', () => {});
  const answering = (socket as Duplex & { _httpMessage?: unknown })._httpMessage;
  if (error === null || !socket.writable || (answering !== undefined && answering !== null)) {
    socket.destroy();
    return;
  }
  const text = JSON.stringify(errorBody(error));
  socket.end(
    `HTTP/1.1 ${error.status} ${error.code}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    () => socket.destroy(),
  );
  // A client that does not take the answer is cut off soon after.
  setTimeout(() => socket.destroy(), 1000).unref();
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(new BackendError(`cannot listen on ${host}:${port}: ${error.message}`)));
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

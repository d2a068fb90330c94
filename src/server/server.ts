/**
 * The embedded lock server: one MemoryStore (the memory backend's logic, so the same contract
 * holds) served over RESP to any number of clients. Its state lives in memory on this one node.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { MemoryStore } from '../backends/memory/store.js';
import { DEFAULT_SERVER_PORT } from '../defaults.js';
import { BackendError, ValidationError } from '../errors.js';
import { checkOptions } from '../util/validate.js';
import { isLoopback, tokenChecker } from './auth.js';
import type { ServerContext } from './context.js';
import { type HttpListener, startHttp } from './http/listener.js';
import { resolveLimits, type ServerLimits } from './limits.js';
import { ClientRegistry } from './registry.js';
import { Session } from './session.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = DEFAULT_SERVER_PORT;

export interface ServerOptions {
  /** Address to bind (default 127.0.0.1). Anything but loopback requires `token`. */
  readonly host?: string;
  /** TCP port (default 7700; 0 picks a free one). */
  readonly port?: number;
  /** Clients must present it (AUTH, or holdfast://TOKEN@host:port); compared in constant time. */
  readonly token?: string;
  /** Also serve the HTTP/JSON API on this port (0 picks a free one); none when absent. */
  readonly httpPort?: number;
  readonly limits?: Partial<ServerLimits>;
}

export interface RunningServer {
  /** The port bound (useful with port 0). */
  readonly port: number;
  /** The address bound. */
  readonly address: string;
  /** The HTTP API's port, or null when it is not served. */
  readonly httpPort: number | null;
  /** Connections open now. */
  readonly connections: number;
  /** Stops accepting, ends blocking commands, tells clients (RESP3 `shutdown` push), closes. */
  close(): Promise<void>;
}

/** How long shutdown waits for clients to go before it cuts them off. */
const SHUTDOWN_GRACE_MS = 2000;

export async function startServer(options?: ServerOptions): Promise<RunningServer> {
  const raw = checkOptions<ServerOptions>(options, ['host', 'port', 'token', 'httpPort', 'limits'], 'server options');
  const host = raw.host ?? DEFAULT_HOST;
  const port = raw.port ?? DEFAULT_PORT;
  if (typeof host !== 'string' || host === '') throw new ValidationError('host must be a non-empty string');
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ValidationError(`invalid port ${port}`);
  const httpPort = raw.httpPort;
  if (httpPort !== undefined && (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65_535)) {
    throw new ValidationError(`invalid httpPort ${httpPort}`);
  }
  if (raw.token !== undefined && (typeof raw.token !== 'string' || raw.token === '')) {
    throw new ValidationError('token must be a non-empty string');
  }
  if (raw.token === undefined && !isLoopback(host)) {
    throw new ValidationError(`binding ${host} exposes the server beyond this machine: give it a token`);
  }
  const limits = resolveLimits(raw.limits);
  const store = new MemoryStore();
  let closing = false;
  const ctx: ServerContext = {
    store,
    limits,
    registry: new ClientRegistry(store),
    checkToken: raw.token === undefined ? null : tokenChecker(raw.token),
    closing: () => closing,
  };
  const sessions = new Set<Session>();
  const server = createServer((socket) => {
    if (closing) socket.destroy();
    else if (sessions.size >= limits.maxConnections) refuse(socket, 'too many connections');
    else sessions.add(new Session(ctx, socket, (session) => sessions.delete(session)));
  });
  const bound = await listen(server, host, port);
  let http: HttpListener | null = null;
  if (httpPort !== undefined) {
    http = await startHttp(ctx, host, httpPort).catch((error: unknown) => {
      server.close();
      throw error;
    });
  }
  return {
    port: bound,
    address: host,
    httpPort: http?.port ?? null,
    get connections() {
      return sessions.size;
    },
    async close() {
      if (closing) return;
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const httpClosed = http?.close(SHUTDOWN_GRACE_MS);
      const goodbyes = Promise.all([...sessions].map((session) => session.shutdown()));
      const grace = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
      await Promise.race([goodbyes, grace]);
      // Whoever did not leave in time is cut off, so close() always finishes.
      for (const session of sessions) session.destroy();
      await Promise.all([stopped, httpClosed]);
    },
  };
}

function refuse(socket: Socket, why: string): void {
  socket.on('error', () => {});
  socket.end(`-LIMIT ${why}\r\n`);
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

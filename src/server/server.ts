/**
 * The lock server: RESP and HTTP adapters over a backend of the library. By default the backend
 * is an in-process memory store, whose state lives on this one node; with `backend: URL` the
 * server is a stateless front of that backend (several may front one Redis).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { DEFAULT_SERVER_PORT } from '../defaults.js';
import { BackendError, ValidationError } from '../errors.js';
import { checkOptions } from '../util/validate.js';
import { isLoopback, tokenChecker } from './auth.js';
import type { ServerContext } from './context.js';
import { type HttpListener, startHttp } from './http/listener.js';
import { resolveLimits, type ServerLimits } from './limits.js';
import { Namespaces } from './namespaces.js';
import { ClientRegistry } from './registry.js';
import { Session } from './session.js';
import { backendSource, type ServedStore } from './source.js';
import { ValueCount } from './value-count.js';

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
  /**
   * The backend to serve, as a `connect()` URL (`redis://…`, …). Default: an in-process memory
   * store (state on this node only).
   * Tests may pass `{ memory: store }`: one MemoryStore (on a FakeClock, say) serves every
   * namespace, so its clock drives the server's state.
   */
  readonly backend?: string | ServedStore;
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
  /** What the server serves: 'memory', 'redis', … */
  readonly backend: string;
  /** Stops accepting, ends blocking commands, tells clients (RESP3 `shutdown` push), closes. */
  close(): Promise<void>;
}

/** How long shutdown waits for clients to go before it cuts them off. */
const SHUTDOWN_GRACE_MS = 2000;

export async function startServer(options?: ServerOptions): Promise<RunningServer> {
  const raw = checkOptions<ServerOptions>(
    options,
    ['host', 'port', 'token', 'httpPort', 'limits', 'backend'],
    'server options',
  );
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
  const source = backendSource(raw.backend);
  const registry = new ClientRegistry();
  const namespaces = new Namespaces(source, registry, limits.maxNamespaces);
  await namespaces.start();
  let closing = false;
  const ctx: ServerContext = {
    namespaces,
    limits,
    registry,
    values: new ValueCount(),
    checkToken: raw.token === undefined ? null : tokenChecker(raw.token),
    closing: () => closing,
  };
  const sessions = new Set<Session>();
  const server = createServer((socket) => {
    if (closing) socket.destroy();
    else if (sessions.size >= limits.maxConnections) refuse(socket, 'too many connections');
    else sessions.add(new Session(ctx, socket, (session) => sessions.delete(session)));
  });
  const bound = await listen(server, host, port).catch(async (error: unknown) => {
    await namespaces.close();
    throw error;
  });
  let http: HttpListener | null = null;
  if (httpPort !== undefined) {
    http = await startHttp(ctx, host, httpPort).catch(async (error: unknown) => {
      server.close();
      await namespaces.close();
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
    backend: namespaces.default.backend.label,
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
      await namespaces.close();
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

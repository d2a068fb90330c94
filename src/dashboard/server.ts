/**
 * The dashboard's HTTP server: the page (from memory), the state as server-sent events, and a
 * force-release endpoint when allowed. Bound to loopback unless a token is set; like the lock
 * server's HTTP API, a loopback dashboard refuses requests addressed to any other host name
 * (a web page's DNS-rebinding trick), and one with a token refuses API calls without it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Holdfast } from '../client.js';
import { HoldfastError, ValidationError } from '../errors.js';
import { isLoopback, tokenChecker } from '../server/auth.js';
import { page } from './page.js';
import { type ReleaseRequest, readRelease } from './release.js';
import { DashboardState, type Message } from './state.js';

export const DEFAULT_DASHBOARD_PORT = 7701;
export const DEFAULT_DASHBOARD_HOST = '127.0.0.1';
const KEEPALIVE_MS = 15_000;

export interface DashboardOptions {
  /** The client the dashboard reads (and force-releases) through; the caller closes it. */
  readonly hf: Holdfast;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Required unless `host` is a loopback address; pages and API calls must present it. */
  readonly token?: string;
  /** Serve the force-release endpoint and its buttons (default false: read-only). */
  readonly allowRelease?: boolean;
  /** Told about every force-release (who, what, why), e.g. to log it. */
  readonly onRelease?: (entry: { name: string; released: number; reason: string; from: string }) => void;
}

export interface Dashboard {
  /** Where it listens, e.g. `http://127.0.0.1:7701/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the dashboard; rejects with a ValidationError for a public host without a token. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? DEFAULT_DASHBOARD_HOST;
  if (!isLoopback(host) && !options.token) {
    throw new ValidationError(`serving the dashboard on ${host} needs a token (--token): only loopback may go without`);
  }
  const state = new DashboardState(options.hf);
  await state.start();
  const handler = new Handler(state, options);
  const server = createServer((req, res) => handler.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_DASHBOARD_PORT, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    close: () => close(server, state, handler),
  };
}

async function close(server: Server, state: DashboardState, handler: Handler): Promise<void> {
  state.stop();
  handler.endStreams();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

class Handler {
  readonly #state: DashboardState;
  readonly #options: DashboardOptions;
  readonly #check: ((presented: string) => boolean) | null;
  readonly #streams = new Set<ServerResponse>();
  readonly #page: ReturnType<typeof page>;

  constructor(state: DashboardState, options: DashboardOptions) {
    this.#state = state;
    this.#options = options;
    this.#check = options.token ? tokenChecker(options.token) : null;
    this.#page = page();
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#serve(req, res).catch((error: unknown) => {
      const status = error instanceof HttpRefusal ? error.status : error instanceof ValidationError ? 400 : 502;
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) sendJson(res, status, { error: message });
      else res.end();
    });
  }

  endStreams(): void {
    for (const res of this.#streams) res.end();
    this.#streams.clear();
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#checkHost(req);
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    if (path === '/' && (method === 'GET' || method === 'HEAD')) {
      res.writeHead(200, { ...this.#page.headers, 'Content-Type': 'text/html; charset=utf-8' });
      res.end(method === 'HEAD' ? undefined : this.#page.html);
      return;
    }
    if (!path?.startsWith('/api/')) throw new HttpRefusal(404, 'not found');
    this.#checkToken(req);
    if (path === '/api/events' && method === 'GET') return this.#stream(res);
    if (path === '/api/state' && method === 'GET') {
      sendJson(res, 200, { ...this.#state.snapshot(), allowRelease: this.#options.allowRelease === true });
      return;
    }
    if (path === '/api/release' && method === 'POST') {
      if (this.#options.allowRelease !== true) {
        throw new HttpRefusal(403, 'this dashboard is read-only: start it with --allow-release');
      }
      this.#checkOrigin(req);
      return this.#release(await readRelease(req), req, res);
    }
    throw new HttpRefusal(404, 'not found');
  }

  #stream(res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    const send = (message: Message | { type: 'hello'; allowRelease: boolean }): void => {
      res.write(`data: ${JSON.stringify(message)}\n\n`);
    };
    send({ type: 'hello', allowRelease: this.#options.allowRelease === true });
    const unsubscribe = this.#state.subscribe(send);
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS).unref();
    this.#streams.add(res);
    res.once('close', () => {
      unsubscribe();
      clearInterval(keepalive);
      this.#streams.delete(res);
    });
  }

  async #release(request: ReleaseRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { name, reason, fences } = request;
    if (fences !== undefined) {
      // Refuse when the holders changed since the operator looked: they meant those holders.
      await this.#state.update(name);
      const now = (this.#state.lock(name)?.holders ?? []).map((h) => h.fence).sort();
      if (now.join(',') !== [...fences].sort().join(',')) {
        throw new HttpRefusal(409, `the holders of "${name}" changed since the page showed them; look again`);
      }
    }
    const released = await this.#options.hf.forceRelease(name);
    const from = req.socket.remoteAddress ?? 'unknown';
    this.#options.onRelease?.({ name, released, reason, from });
    this.#state.notice(`force-released "${name}" (${released} holder${released === 1 ? '' : 's'}): ${reason}`);
    void this.#state.update(name);
    sendJson(res, 200, { released });
  }

  #checkHost(req: IncomingMessage): void {
    const host = req.headers.host;
    if (this.#check !== null || (host !== undefined && isLoopback(host.replace(/:\d*$/, '')))) return;
    throw new HttpRefusal(403, 'this dashboard answers loopback addresses only');
  }

  #checkToken(req: IncomingMessage): void {
    if (this.#check === null) return;
    const presented = /^Bearer +(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (presented !== undefined && this.#check(presented)) return;
    throw new HttpRefusal(401, 'a token is required: open the page with #token=… or send Authorization: Bearer …');
  }

  /** A browser says where a request comes from; only the dashboard's own page may release. */
  #checkOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = '';
    }
    if (originHost !== req.headers.host) throw new HttpRefusal(403, 'cross-origin requests are refused');
  }
}

export class HttpRefusal extends HoldfastError {
  readonly status: number;

  constructor(status: number, message: string) {
    super('VALIDATION', message);
    this.status = status;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

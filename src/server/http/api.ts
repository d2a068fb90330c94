/**
 * The HTTP/JSON API over the server's default namespace: routing, the Host and token checks, and the
 * one place where a failure becomes the error shape. Every answer is JSON except the event
 * stream; nothing a caller sends can throw past here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopback } from '../auth.js';
import { SERVER_NAME, type ServerContext } from '../context.js';
import { checkFields } from './body.js';
import { HttpClients } from './clients.js';
import { HttpError, toHttpError } from './errors.js';
import { EventStreams } from './events.js';
import { Exchange, errorReply, type JsonReply, ok, sendJson } from './exchange.js';
import { nameParam } from './fields.js';
import { acquire, extend, inspect, list, release } from './locks.js';
import { take } from './rates.js';
import { getValue, putValue } from './values.js';

type Handler = (ex: Exchange, name: string) => JsonReply | null | Promise<JsonReply | null>;

interface Route {
  readonly methods: Readonly<Record<string, Handler>>;
  /** The name's path segment, still URL-encoded. */
  readonly name?: string;
  /** Query parameters it takes; any other is refused. */
  readonly query?: readonly string[];
}

const LOCK_ACTIONS: Readonly<Record<string, Handler>> = { acquire, extend, release };

export class HttpApi {
  readonly clients: HttpClients;
  readonly streams = new EventStreams();
  readonly #ctx: ServerContext;
  readonly #open = new Set<Exchange>();
  #drained: (() => void)[] = [];

  constructor(ctx: ServerContext) {
    this.#ctx = ctx;
    this.clients = new HttpClients(ctx);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const client = this.clients.get(req.socket.remoteAddress ?? 'unknown');
    const ex = new Exchange(req, res, this.#ctx, client, queryOf(req.url));
    client.active++;
    this.#open.add(ex);
    res.once('close', () => {
      client.active--;
      this.#open.delete(ex);
      if (this.#open.size === 0) for (const resolve of this.#drained.splice(0)) resolve();
    });
    void this.#serve(ex).then(
      (reply) => {
        if (reply !== null) sendJson(res, reply, this.#ctx.closing());
      },
      (error: unknown) => sendJson(res, errorReply(toHttpError(error)), this.#ctx.closing()),
    );
  }

  /** Shutdown: long-polls are answered 503 SHUTDOWN and event streams end. */
  shutdown(): void {
    for (const ex of this.#open) ex.stop();
    this.streams.endAll();
  }

  /** Resolves once no answer is in progress. */
  answered(): Promise<void> {
    if (this.#open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  close(): void {
    this.clients.close();
  }

  async #serve(ex: Exchange): Promise<JsonReply | null> {
    if (this.#ctx.closing()) throw new HttpError('SHUTDOWN', 'server stopping');
    this.#checkHost(ex.req);
    this.#checkAuth(ex.req);
    const path = (ex.req.url ?? '/').split('?')[0] ?? '/';
    const route = this.#route(path.split('/').slice(1));
    if (!route) throw new HttpError('NOT_FOUND', `no endpoint ${JSON.stringify(path.slice(0, 128))}`);
    const handler = route.methods[ex.req.method ?? ''];
    if (!handler) {
      const allow = Object.keys(route.methods).join(', ');
      throw new HttpError('METHOD_NOT_ALLOWED', `use ${allow} here`, { headers: { Allow: allow } });
    }
    checkFields(Object.fromEntries(ex.query), route.query ?? []);
    return handler(ex, route.name === undefined ? '' : nameParam(route.name));
  }

  #route(segments: readonly string[]): Route | null {
    const [version, area, name, action, ...rest] = segments;
    if (version !== 'v1' || rest.length > 0) return null;
    if (name === undefined) {
      if (area === 'health') return { methods: { GET: () => ok(this.#health()) } };
      if (area === 'locks') return { methods: { GET: list }, query: ['pattern'] };
      if (area === 'events') return { methods: { GET: (ex) => this.streams.open(ex) }, query: ['pattern'] };
      return null;
    }
    if (area === 'locks' && action === undefined) return { methods: { GET: inspect }, name };
    const lockAction = action === undefined ? undefined : LOCK_ACTIONS[action];
    if (area === 'locks' && lockAction) return { methods: { POST: lockAction }, name };
    if (area === 'rate' && action === 'take') return { methods: { POST: take }, name };
    if (area === 'values' && action === undefined) return { methods: { GET: getValue, PUT: putValue }, name };
    return null;
  }

  /** What the server is: where its state lives. */
  #health(): unknown {
    const { namespaces } = this.#ctx;
    const label = namespaces.default.backend.label;
    return {
      ok: true,
      server: SERVER_NAME,
      backend: label,
      state: namespaces.source.inProcess ? 'memory, single node' : label,
    };
  }

  /**
   * Without a token the server is bound to loopback; a request addressed to any other host
   * name is a web page's DNS-rebinding trick, not a local client.
   */
  #checkHost(req: IncomingMessage): void {
    const host = req.headers.host;
    if (this.#ctx.checkToken !== null || host === undefined || isLoopback(host.replace(/:\d*$/, ''))) return;
    throw new HttpError('FORBIDDEN', `host ${JSON.stringify(host.slice(0, 128))} is not a loopback address`);
  }

  #checkAuth(req: IncomingMessage): void {
    const check = this.#ctx.checkToken;
    if (check === null) return;
    const presented = /^Bearer +(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (presented !== undefined && check(presented)) return;
    throw new HttpError('NOAUTH', 'authentication required: send Authorization: Bearer <token>', {
      headers: { 'WWW-Authenticate': 'Bearer realm="holdfast"' },
    });
  }
}

function queryOf(url: string | undefined): string {
  const at = (url ?? '').indexOf('?');
  return at < 0 ? '' : (url ?? '').slice(at + 1);
}

/** One HTTP request being served, and how JSON answers are written. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerContext } from '../context.js';
import { CommandError } from '../errors.js';
import type { HttpClient } from './clients.js';
import { errorBody, type HttpError } from './errors.js';

/** A JSON answer; a handler that streams its own answer (events) returns null instead. */
export interface JsonReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export class Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly ctx: ServerContext;
  readonly client: HttpClient;
  readonly query: URLSearchParams;
  readonly #ended = new AbortController();
  #gone = false;

  constructor(req: IncomingMessage, res: ServerResponse, ctx: ServerContext, client: HttpClient, query: string) {
    this.req = req;
    this.res = res;
    this.ctx = ctx;
    this.client = client;
    this.query = new URLSearchParams(query);
    res.once('close', () => {
      if (res.writableFinished) return;
      this.#gone = true;
      this.#ended.abort(new CommandError('CLOSED', 'the caller hung up'));
    });
  }

  /** Aborted when the caller hangs up or the server stops: a long-poll ends with it. */
  get signal(): AbortSignal {
    return this.#ended.signal;
  }

  /** Shutdown: a long-poll in progress is answered 503 SHUTDOWN. */
  stop(): void {
    this.#ended.abort(new CommandError('SHUTDOWN', 'server stopping'));
  }

  /** true once the caller hung up before its whole answer was sent. */
  get gone(): boolean {
    return this.#gone;
  }
}

export function ok(body: unknown, headers?: Readonly<Record<string, string>>): JsonReply {
  return headers === undefined ? { status: 200, body } : { status: 200, body, headers };
}

export function sendJson(res: ServerResponse, reply: JsonReply, closing: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(reply.body);
  res.statusCode = reply.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text, 'utf8'));
  res.setHeader('Cache-Control', 'no-store');
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  // A stopping server lets no connection linger for another request.
  if (closing) res.setHeader('Connection', 'close');
  res.end(text);
}

export function errorReply(error: HttpError): JsonReply {
  return { status: error.status, body: errorBody(error), headers: error.headers };
}

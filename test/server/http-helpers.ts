/**
 * A small client of the HTTP API for tests: JSON calls with fetch, an SSE reader over fetch's
 * body stream, and the machine's curl and python3.
 */
import { execFile } from 'node:child_process';
import type { RunningServer } from '../../src/server/index.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

/** The fields of every answer of the API, all optional. */
export interface Body {
  readonly error?: { readonly code: string; readonly message: string };
  readonly token?: string;
  readonly fence?: string;
  readonly ttl?: number;
  readonly expiresAt?: number;
  readonly held?: boolean;
  readonly released?: boolean;
  readonly names?: readonly string[];
  readonly holders?: readonly { readonly fence: string; readonly permits: number; readonly owner: unknown }[];
  readonly waiters?: readonly { readonly permits: number; readonly owner: unknown }[];
  readonly allowed?: boolean;
  readonly remaining?: number;
  readonly retryAfter?: number;
  readonly resetAt?: number;
  readonly [key: string]: unknown;
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Body;
}

const JSON_TYPE = { 'Content-Type': 'application/json' };

export class HttpApiClient {
  readonly base: string;
  readonly #auth: Record<string, string>;

  constructor(port: number, token?: string) {
    this.base = `http://127.0.0.1:${port}/v1`;
    this.#auth = token === undefined ? {} : { Authorization: `Bearer ${token}` };
  }

  static of(server: RunningServer, token?: string): HttpApiClient {
    if (server.httpPort === null) throw new Error('this server serves no HTTP');
    return new HttpApiClient(server.httpPort, token);
  }

  async get(path: string, init: RequestInit = {}): Promise<Answer> {
    return this.call(path, { ...init, headers: { ...this.#auth, ...(init.headers as Record<string, string>) } });
  }

  /** POSTs `body` as JSON (a string is sent as it is). */
  async post(path: string, body: unknown, init: RequestInit = {}): Promise<Answer> {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const headers = { ...JSON_TYPE, ...this.#auth, ...(init.headers as Record<string, string>) };
    return this.call(path, { ...init, method: 'POST', body: text, headers });
  }

  async call(path: string, init: RequestInit): Promise<Answer> {
    const res = await fetch(this.base + path, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Body) };
  }

  /** Waits (polling inspect: the queue announces nothing else) until `name` has `count` waiters. */
  async untilWaiters(name: string, count: number): Promise<void> {
    await waitFor(async () => ((await this.get(lockPath(name))).body.waiters?.length ?? 0) === count, {
      what: `${count} waiter(s) on ${name}`,
    });
  }
}

export function lockPath(name: string, action?: string): string {
  return `/locks/${encodeURIComponent(name)}${action === undefined ? '' : `/${action}`}`;
}

export function ratePath(name: string): string {
  return `/rate/${encodeURIComponent(name)}/take`;
}

export interface SseEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
}

/** Reads a `text/event-stream` response as events; comments (heartbeats) are skipped. */
export class EventReader {
  readonly events: SseEvent[] = [];
  readonly response: Response;
  /** Resolves when the server ended the stream. */
  readonly ended: Promise<void>;
  readonly #abort: AbortController;
  #notify: (() => void)[] = [];

  static async open(api: HttpApiClient, pattern: string, headers: Record<string, string> = {}): Promise<EventReader> {
    const abort = new AbortController();
    const url = `${api.base}/events?pattern=${encodeURIComponent(pattern)}`;
    const response = await fetch(url, { headers, signal: abort.signal });
    return new EventReader(response, abort);
  }

  private constructor(response: Response, abort: AbortController) {
    this.response = response;
    this.#abort = abort;
    this.ended = this.#read();
  }

  /** The first event (seen so far or to come) of `type` for `name`. */
  async next(type: string, name?: string, ms = 5000): Promise<SseEvent> {
    const find = () => this.events.find((e) => e.type === type && (name === undefined || e.data.name === name));
    const wait = async (): Promise<SseEvent> => {
      for (;;) {
        const found = find();
        if (found) return found;
        await new Promise<void>((resolve) => this.#notify.push(resolve));
      }
    };
    return withTimeout(wait(), ms, `a ${type} event${name === undefined ? '' : ` on ${name}`}`);
  }

  close(): void {
    this.#abort.abort();
  }

  async #read(): Promise<void> {
    const body = this.response.body;
    if (!body) return;
    const decoder = new TextDecoder();
    let text = '';
    try {
      for await (const chunk of body) {
        text += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          this.#block(text.slice(0, end));
          text = text.slice(end + 2);
        }
      }
    } catch {
      // aborted by close()
    }
  }

  #block(block: string): void {
    let type = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) type = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (data === '') return; // a comment: the greeting or a heartbeat
    this.events.push({ type, data: JSON.parse(data) as Record<string, unknown> });
    for (const wake of this.#notify.splice(0)) wake();
  }
}

/** Runs a program of this machine; resolves with its stdout, rejects with its output on failure. */
export function run(command: string, args: readonly string[], timeout = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { timeout }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** curl, as the README shows it; the status code follows the body on a last line of its own. */
export async function curl(args: readonly string[]): Promise<Answer> {
  const out = await run('curl', ['-sS', '-w', '\n%{http_code}', ...args]);
  const at = out.lastIndexOf('\n');
  const text = out.slice(0, at);
  return { status: Number(out.slice(at + 1)), headers: new Headers(), body: JSON.parse(text) as Body };
}

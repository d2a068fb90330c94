/**
 * `GET /v1/events?pattern=glob`: lock changes as Server-Sent Events, `event: <type>` and
 * `data: <json>` per change, a comment line as heartbeat, an `event: shutdown` and the end of
 * the stream when the server stops. Each stream counts as one watch of its client address; a
 * reader that falls behind is cut off as a RESP connection would be.
 */
import type { ServerResponse } from 'node:http';
import type { BackendEvent } from '../../backend.js';
import { escapeGlob } from '../../util/glob.js';
import { checkName } from '../../util/validate.js';
import { HttpError } from './errors.js';
import type { Exchange } from './exchange.js';

/** A comment every so often keeps proxies and idle timers from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/** An event as JSON: the fence as a decimal string (it can exceed 2^53), the owner as given. */
export function eventBody(event: BackendEvent, name: string): unknown {
  return {
    type: event.type,
    name,
    kind: event.kind,
    fence: event.fence === null ? null : event.fence.toString(),
    permits: event.permits,
    owner: event.owner,
    at: event.at,
    expiresIn: event.expiresIn === null ? null : Math.ceil(event.expiresIn),
  };
}

export class EventStreams {
  /** How to end each open stream (at shutdown). */
  readonly #ends = new Set<() => void>();

  /** Streams events to the caller until it hangs up or the server stops. */
  open(ex: Exchange): null {
    const pattern = checkName(ex.query.get('pattern') ?? '*', 'pattern');
    const { client, ctx, res } = ex;
    const max = ctx.limits.maxWatchesPerConnection;
    if (client.streams >= max) throw new HttpError('LIMIT', `this client address already has ${max} event streams`);
    const prefix = client.key('');
    const stream = new Stream(res, ctx.limits.maxOutputBytes, ctx.limits.slowClientTimeout);
    const unsubscribe = ctx.store.events.subscribe(escapeGlob(prefix) + pattern, (event) => {
      const data = JSON.stringify(eventBody(event, event.name.slice(prefix.length)));
      stream.send(`event: ${event.type}\ndata: ${data}\n\n`);
    });
    const end = (): void => stream.send('event: shutdown\ndata: {}\n\n', true);
    client.streams++;
    this.#ends.add(end);
    res.once('close', () => {
      client.streams--;
      this.#ends.delete(end);
      unsubscribe();
      stream.stop();
    });
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no', // nginx: pass each event on at once
    });
    stream.send(`: holdfast events for ${JSON.stringify(pattern)}\n\n`);
    return null;
  }

  endAll(): void {
    for (const end of [...this.#ends]) end();
  }
}

/** One response being streamed, with the server's output limits. */
class Stream {
  readonly #res: ServerResponse;
  readonly #maxBytes: number;
  readonly #slowMs: number;
  readonly #heartbeat: NodeJS.Timeout;
  #slow: NodeJS.Timeout | null = null;

  constructor(res: ServerResponse, maxBytes: number, slowMs: number) {
    this.#res = res;
    this.#maxBytes = maxBytes;
    this.#slowMs = slowMs;
    this.#heartbeat = setInterval(() => this.send(': heartbeat\n\n'), HEARTBEAT_MS);
    this.#heartbeat.unref();
    res.on('drain', () => this.#clearSlow());
  }

  send(text: string, last = false): void {
    const res = this.#res;
    if (res.writableEnded || res.destroyed) return;
    let flushed = true;
    if (last) res.end(text);
    else flushed = res.write(text);
    if (res.writableLength > this.#maxBytes) {
      res.destroy(); // it reads nothing: telling it is pointless
    } else if (!flushed && this.#slow === null) {
      this.#slow = setTimeout(() => res.destroy(), this.#slowMs);
      this.#slow.unref();
    }
  }

  stop(): void {
    clearInterval(this.#heartbeat);
    this.#clearSlow();
  }

  #clearSlow(): void {
    if (this.#slow !== null) clearTimeout(this.#slow);
    this.#slow = null;
  }
}

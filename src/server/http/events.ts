/**
 * `GET /v1/events?pattern=glob`: lock changes as Server-Sent Events, `event: <type>` and
 * `data: <json>` per change, a comment line as heartbeat, an `event: shutdown` and the end of
 * the stream when the server stops. Each stream counts as one watch of its client address; a
 * reader that falls behind is cut off as a RESP connection would be.
 */
import type { ServerResponse } from 'node:http';
import { requireCapability } from '../../capabilities.js';
import { checkName } from '../../util/validate.js';
import { renderEvent } from '../render.js';
import { HttpError } from './errors.js';
import type { Exchange } from './exchange.js';

/** A comment every so often keeps proxies and idle timers from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

export class EventStreams {
  /** How to end each open stream (at shutdown). */
  readonly #ends = new Set<() => void>();

  /** Streams events to the caller until it hangs up or the server stops. */
  async open(ex: Exchange): Promise<null> {
    const pattern = checkName(ex.query.get('pattern') ?? '*', 'pattern');
    const { client, ctx, res } = ex;
    const max = ctx.limits.maxWatchesPerConnection;
    if (client.streams >= max) throw new HttpError('LIMIT', `this client address already has ${max} event streams`);
    client.streams++;
    let unsubscribe: () => Promise<void>;
    let stream: Stream | null = null;
    try {
      const events = requireCapability(client.namespace.backend, 'events', `GET /v1/events?pattern=${pattern}`);
      unsubscribe = await events.watch(pattern, (event) => {
        const data = JSON.stringify(renderEvent(event, event.name));
        stream?.send(`event: ${event.type}\ndata: ${data}\n\n`);
      });
    } catch (error) {
      client.streams--;
      throw error;
    }
    stream = new Stream(res, ctx.limits.maxOutputBytes, ctx.limits.slowClientTimeout);
    const end = (): void => stream?.send('event: shutdown\ndata: {}\n\n', true);
    this.#ends.add(end);
    const closed = (): void => {
      client.streams--;
      this.#ends.delete(end);
      void unsubscribe().catch(() => {});
      stream?.stop();
    };
    if (res.destroyed) {
      closed();
      return null;
    }
    res.once('close', closed);
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

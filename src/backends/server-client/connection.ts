/**
 * The one TCP connection of a holdfast:// client. Requests are pipelined and matched to replies
 * in order; pushes (wake-ups, events) go to `onPush`. When the connection drops it reconnects
 * with exponential back-off (capped at 1 s), sets itself up again (`handshake`), then calls
 * `onReconnect`. Requests made meanwhile wait for the connection, each bounded by the timeout.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { BackendError, ClosedError, type HoldfastError } from '../../errors.js';
import { Fifo } from './queue.js';
import { ReplyParser, RespError, type RespValue } from './resp.js';
import type { ServerAddress } from './url.js';

export interface ConnectionOptions {
  readonly address: ServerAddress;
  /** ms a request may take, from the call, before it rejects with a BackendError. */
  readonly timeout: number;
  /** Sent first on every connection; an error reply to any of them fails the connection. */
  readonly handshake: () => readonly (readonly string[])[];
  readonly onPush: (items: RespValue[]) => void;
  /** The connection came back and is set up again; pushes sent during the outage are lost. */
  readonly onReconnect: () => void;
}

interface Request {
  readonly frame: string;
  readonly what: string;
  readonly resolve: (value: RespValue) => void;
  readonly reject: (error: HoldfastError) => void;
  /** performance.now() after which it fails with a timeout (see #expireDue). */
  readonly deadline: number;
  settled: boolean;
}

const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1000;
/** Requests that may wait for a connection; more fail at once rather than pile up. */
const MAX_OFFLINE = 10_000;
const MAX_HEARTBEAT_MS = 15_000;
/**
 * Requests written together at the end of a turn, at most: more go out as soon as there are
 * this many, so the server works on them while this process is still issuing the rest (with
 * 64 tasks in parallel the two would otherwise take turns waiting for each other).
 */
const FLUSH_AT = 32;
/** The connection's read buffer (what a stream reads at once, too). */
const READ_BUFFER_BYTES = 64 * 1024;

export class ServerConnection {
  readonly #options: ConnectionOptions;
  readonly #inflight = new Fifo<Request>();
  readonly #offline = new Fifo<Request>();
  #socket: Socket | null = null;
  #ready = false;
  #opened = false;
  #closed = false;
  #outbox = '';
  /** Requests in #outbox. */
  #outboxCount = 0;
  #retries = 0;
  #protocol = 0;
  #reconnect: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  /** The one timer for every pending request's deadline; null when none is armed. */
  #expiry: NodeJS.Timeout | null = null;
  #sentAt = 0;
  /** Why the latest connection attempt failed or the connection dropped, for "unreachable" errors. */
  #lastFailure = '';

  /** Connects and sets up; rejects with a BackendError when the server cannot be reached. */
  static async open(options: ConnectionOptions): Promise<ServerConnection> {
    const connection = new ServerConnection(options);
    await connection.#connect();
    connection.#opened = true;
    return connection;
  }

  private constructor(options: ConnectionOptions) {
    this.#options = options;
  }

  /** One request; resolves with its reply (an error reply is a RespError value). */
  send(args: readonly (string | number)[], what: string): Promise<RespValue> {
    if (this.#closed) return Promise.reject(new ClosedError());
    if (this.#ready) return this.#request(args, what);
    if (this.#offline.size >= MAX_OFFLINE) return Promise.reject(this.#unreachable(what));
    return new Promise((resolve, reject) => this.#offline.push(this.#newRequest(args, what, resolve, reject)));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTimers();
    for (const request of this.#offline.drain()) this.#fail(request, new ClosedError());
    const socket = this.#socket;
    if (!socket) {
      this.#stopExpiry();
      return;
    }
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.end();
    const cutOff = setTimeout(() => socket.destroy(), this.#options.timeout);
    await closed;
    clearTimeout(cutOff);
  }

  #connect(): Promise<void> {
    const { host, port } = this.#options.address;
    return new Promise((resolve, reject) => {
      const parser = new ReplyParser();
      // Reads land in one buffer of this connection's and go straight to the parser, not
      // through the stream's 'data' events: a wake-up push then reaches its waiter without the
      // stream's buffering and the read-ahead it schedules (a process.nextTick) before the
      // waiter's promise callbacks can run.
      const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      const socket: Socket = netConnect({
        host,
        port,
        noDelay: true,
        onread: {
          buffer: readBuffer,
          callback: (length: number): boolean => {
            this.#onData(socket, parser, readBuffer.subarray(0, length));
            // The next read overwrites the buffer: the parser copies what it has not parsed yet.
            parser.retain(readBuffer.buffer);
            return true; // keep reading
          },
        },
      });
      this.#socket = socket;
      let settled = false;
      const fail = (error: HoldfastError): void => {
        if (settled) return;
        settled = true;
        reject(error);
        socket.destroy();
      };
      const connectTimer = setTimeout(
        () => fail(new BackendError(`connecting to ${host}:${port} timed out`)),
        this.#options.timeout,
      );
      socket.once('connect', () => {
        clearTimeout(connectTimer);
        // close() was called while this attempt was under way.
        if (this.#closed) return fail(new ClosedError());
        this.#setUp().then(() => {
          settled = true;
          this.#lastFailure = '';
          resolve();
        }, fail);
      });
      socket.on('error', (error) => {
        this.#lastFailure = error.message;
        fail(
          new BackendError(`cannot reach the holdfast server at ${host}:${port}: ${error.message}`, { cause: error }),
        );
      });
      socket.on('close', () => {
        clearTimeout(connectTimer);
        if (!settled) this.#lastFailure ||= 'it closed the connection';
        fail(new BackendError(`holdfast server ${host}:${port} closed the connection`));
        this.#onClose(socket);
      });
    });
  }

  /** Sends the handshake, then whatever waited for the connection, all pipelined. */
  async #setUp(): Promise<void> {
    const steps = this.#options.handshake().map((args) => this.#request(args, 'connection setup'));
    this.#ready = true;
    for (const request of this.#offline.drain()) if (!request.settled) this.#transmit(request);
    const replies = await Promise.all(steps);
    const refused = replies.find((reply) => reply instanceof RespError);
    if (refused instanceof RespError) {
      throw new BackendError(`the holdfast server refused the connection: ${refused.code} ${refused.message}`);
    }
    this.#protocol = protocolOf(replies[0]);
    this.#startHeartbeat(replies[0]);
  }

  /**
   * The server's protocol version, from its HELLO reply on the current connection (0 until that
   * reply came, and while there is no connection): what the commands sent now may ask of it.
   */
  get protocol(): number {
    return this.#protocol;
  }

  #onData(socket: Socket, parser: ReplyParser, chunk: Buffer): void {
    if (socket !== this.#socket) return;
    parser.feed(chunk);
    for (;;) {
      let frame: ReturnType<ReplyParser['next']>;
      try {
        frame = parser.next();
      } catch (error) {
        socket.destroy(error instanceof Error ? error : undefined);
        return;
      }
      if (frame === null) return;
      if ('push' in frame) {
        this.#options.onPush(frame.push);
        continue;
      }
      const request = this.#inflight.shift();
      // A reply nobody asked for: the stream is out of step, and only a new connection fixes it.
      if (!request) {
        socket.destroy();
        return;
      }
      if (request.settled) continue;
      request.settled = true;
      request.resolve(frame.reply);
    }
  }

  #onClose(socket: Socket): void {
    if (socket !== this.#socket) return;
    this.#socket = null;
    this.#ready = false;
    this.#protocol = 0;
    this.#outbox = '';
    this.#outboxCount = 0;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    if (!this.#closed) this.#lastFailure ||= 'the connection was lost';
    const lost = this.#closed ? new ClosedError() : new BackendError('the connection to the holdfast server was lost');
    for (const request of this.#inflight.drain()) this.#fail(request, lost);
    // Closed for good: nothing is pending any more, and no timer may outlive the client.
    if (this.#closed) this.#stopExpiry();
    if (!this.#closed && this.#opened) this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const backoff = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.#retries);
    this.#retries++;
    // Jitter, so many clients of a restarted server do not all come back at the same instant.
    this.#reconnect = setTimeout(
      () => {
        this.#reconnect = null;
        this.#connect().then(
          () => {
            this.#retries = 0;
            this.#options.onReconnect();
          },
          () => {}, // the socket's close schedules the next attempt
        );
      },
      backoff * (0.5 + Math.random() / 2),
    );
    this.#reconnect.unref();
  }

  #startHeartbeat(hello: RespValue | undefined): void {
    const idle = helloField(hello, 'idle-timeout');
    const every = typeof idle === 'number' && idle > 0 ? Math.min(idle / 3, MAX_HEARTBEAT_MS) : MAX_HEARTBEAT_MS;
    // Keeps the server from closing a quiet connection, and finds a dead one (its PING times out).
    this.#heartbeat = setInterval(() => {
      if (Date.now() - this.#sentAt >= every) this.send(['PING'], 'heartbeat').catch(() => {});
    }, every);
    this.#heartbeat.unref();
  }

  #request(args: readonly (string | number)[], what: string): Promise<RespValue> {
    return new Promise((resolve, reject) => this.#transmit(this.#newRequest(args, what, resolve, reject)));
  }

  #newRequest(
    args: readonly (string | number)[],
    what: string,
    resolve: (value: RespValue) => void,
    reject: (error: HoldfastError) => void,
  ): Request {
    const { timeout } = this.#options;
    const request: Request = {
      frame: encode(args),
      what,
      resolve,
      reject,
      deadline: performance.now() + timeout,
      settled: false,
    };
    if (this.#expiry === null) this.#armExpiry(timeout);
    return request;
  }

  /**
   * One timer for the deadlines of all pending requests, not one per request: arming and
   * clearing a timer per request was about a twelfth of this client's CPU per acquire+release
   * (64 in parallel). It fires at the earliest deadline it knows of, fails what is due, and is
   * armed again for the earliest deadline left. Not unref()'d: a request in flight keeps the
   * process alive until it settles.
   */
  #armExpiry(delay: number): void {
    this.#expiry = setTimeout(this.#expireDue, Math.max(1, Math.ceil(delay)));
  }

  readonly #expireDue = (): void => {
    this.#expiry = null;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const request of [...this.#offline.values(), ...this.#inflight.values()]) {
      if (request.settled) continue;
      if (request.deadline <= now) this.#expire(request);
      else next = Math.min(next, request.deadline);
    }
    if (next !== Number.POSITIVE_INFINITY && !this.#closed) this.#armExpiry(next - now);
  };

  #transmit(request: Request): void {
    this.#inflight.push(request);
    if (this.#outbox === '') {
      // Nothing else in flight: nothing the server is working on could share a write with it,
      // so a lone request (a release a waiter's hand-off starts from, a client in sequence)
      // goes out now rather than after whatever its caller does next in this turn; requests
      // issued behind it in the same turn still go together, at its end.
      if (this.#inflight.size === 1 && this.#socket) {
        this.#write(this.#socket, request.frame);
        return;
      }
      queueMicrotask(() => this.#flush());
    }
    this.#outbox += request.frame;
    if (++this.#outboxCount >= FLUSH_AT) this.#flush();
  }

  #flush(): void {
    if (this.#outbox === '' || !this.#socket) return;
    this.#write(this.#socket, this.#outbox);
    this.#outbox = '';
    this.#outboxCount = 0;
  }

  #write(socket: Socket, text: string): void {
    socket.write(text);
    this.#sentAt = Date.now();
  }

  #expire(request: Request): void {
    if (request.settled) return;
    // Still waiting for a connection: the server is gone, which must not read like a slow reply
    // (or, to a waiter, like a lock timeout).
    if (this.#offline.remove(request)) {
      this.#fail(request, this.#unreachable(request.what));
      return;
    }
    this.#fail(request, new BackendError(`${request.what} timed out after ${this.#options.timeout} ms`));
    // A sent request without a reply in that time means a dead link more often than a slow
    // server: start over on a new connection rather than wait on this one.
    if (this.#ready) this.#socket?.destroy();
  }

  #unreachable(what: string): BackendError {
    const { host, port } = this.#options.address;
    const why = this.#lastFailure || 'no connection';
    return new BackendError(`holdfast server at ${host}:${port} unreachable: ${why} (${what})`);
  }

  #fail(request: Request, error: HoldfastError): void {
    if (request.settled) return;
    request.settled = true;
    request.reject(error);
  }

  #stopExpiry(): void {
    if (this.#expiry) clearTimeout(this.#expiry);
    this.#expiry = null;
  }

  #stopTimers(): void {
    if (this.#reconnect) clearTimeout(this.#reconnect);
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#reconnect = null;
    this.#heartbeat = null;
  }
}

/**
 * A request as RESP: an array of bulk strings. Written first with each string's length as its
 * byte count, which is right when the whole frame is ASCII (names, tokens, numbers: nearly
 * always), and checked with one byte count of the frame rather than one per argument.
 */
function encode(args: readonly (string | number)[]): string {
  let frame = `*${args.length}\r\n`;
  for (const arg of args) {
    const text = String(arg);
    frame += `$${text.length}\r\n${text}\r\n`;
  }
  if (Buffer.byteLength(frame, 'utf8') === frame.length) return frame;
  frame = `*${args.length}\r\n`;
  for (const arg of args) {
    const text = String(arg);
    frame += `$${Buffer.byteLength(text, 'utf8')}\r\n${text}\r\n`;
  }
  return frame;
}

/** The value of `field` in a HELLO reply (a map, read as a flat array), or undefined. */
function helloField(hello: RespValue | undefined, field: string): RespValue | undefined {
  if (!Array.isArray(hello)) return undefined;
  const at = hello.indexOf(field);
  return at < 0 ? undefined : hello[at + 1];
}

/** The `version` a HELLO reply names, as a number; 0 if none. */
function protocolOf(hello: RespValue | undefined): number {
  const version = helloField(hello, 'version');
  return typeof version === 'string' && /^\d{1,6}$/.test(version) ? Number(version) : 0;
}

/**
 * One RESP connection: reads requests in order, runs each against its namespace's backend
 * (later requests start while earlier ones are answered: pipelining), writes the replies in
 * the order of the requests, and pushes wake-ups and events (RESP3). A blocking command
 * (HOLDFAST.LOCK / TAKE with WAIT, HOLDFAST.PREFIX) holds the requests behind it, as in Redis.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { HandoffGrant } from '../backend.js';
import type { Connection } from './caller.js';
import { dispatch } from './commands/index.js';
import { isBlocking, type Outcome } from './commands/table.js';
import type { ServerContext } from './context.js';
import { CommandError, toErrorReply } from './errors.js';
import { Ledger } from './ledger.js';
import { LimitedBackend } from './limited.js';
import type { Namespace } from './namespace.js';
import type { WakeTarget } from './registry.js';
import { encodePush, encodeReply, type Reply } from './reply.js';
import { ProtocolError, type RequestArg, RequestParser } from './resp-parser.js';

/** How long a closing connection may take to flush before it is dropped. */
const CLOSE_GRACE_MS = 1000;
/** Requests answered out of order are held back to this many; then input waits. */
const MAX_PENDING = 1024;
/**
 * The size of the buffer a socket read fills (Node's stream read size): a chunk this long may
 * have more input right behind it in the same poll phase, a shorter one drained the socket.
 */
const FULL_READ = 64 * 1024;

/** A reply in its request's place: ready once its value is known. */
interface Slot {
  reply: Reply;
  ready: boolean;
}

export class Session implements Connection, WakeTarget {
  readonly ctx: ServerContext;
  readonly ledger = new Ledger();
  readonly backend: LimitedBackend;
  readonly watches = new Map<string, Promise<() => Promise<void>>>();
  clientId = randomBytes(9).toString('base64url');
  namespace: Namespace;
  /** CLIENT SETNAME: kept for CLIENT GETNAME, used for nothing else. */
  clientName = '';
  resp3 = false;
  authenticated: boolean;
  authFailures = 0;
  readonly #socket: Socket;
  readonly #parser: RequestParser;
  readonly #onClosed: (session: Session) => void;
  readonly #ended = new AbortController();
  readonly #slots: Slot[] = [];
  /** Slots whose reply is not known yet. */
  #unsettled = 0;
  /** The latest read filled its buffer: more input may be read in this same turn. */
  #moreInput = false;
  #busy = false;
  #paused = false;
  #flushing = false;
  #closed = false;
  #quitting = false;
  #out = '';
  #slowInput: NodeJS.Timeout | null = null;
  #slowOutput: NodeJS.Timeout | null = null;

  constructor(ctx: ServerContext, socket: Socket, onClosed: (session: Session) => void) {
    this.ctx = ctx;
    this.#socket = socket;
    this.#onClosed = onClosed;
    this.namespace = ctx.namespaces.enter(ctx.namespaces.default);
    this.backend = new LimitedBackend(this);
    this.authenticated = ctx.checkToken === null;
    this.#parser = new RequestParser(ctx.limits);
    ctx.registry.add(this.clientId, this);
    socket.setNoDelay(true);
    socket.setTimeout(ctx.limits.idleTimeout);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#clearSlowOutput());
    socket.on('timeout', () => this.#drop(`idle for ${ctx.limits.idleTimeout} ms`));
    socket.on('error', () => {}); // 'close' follows, and cleans up
    socket.on('close', () => this.#cleanup());
  }

  get signal(): AbortSignal {
    return this.#ended.signal;
  }

  setClientId(clientId: string): void {
    this.ctx.registry.remove(this.clientId, this);
    this.clientId = clientId;
    this.ctx.registry.add(clientId, this);
  }

  async usePrefix(prefix: string): Promise<void> {
    const next = await this.ctx.namespaces.use(prefix);
    if (this.#closed) {
      this.ctx.namespaces.leave(next);
      return;
    }
    const before = this.namespace;
    this.namespace = next;
    this.ctx.namespaces.leave(before);
  }

  /**
   * A hand-off (or a turn) for a waiter this connection queued itself: `["wake", token]`, or
   * with a hand-off's grant `["wake", token, fence, serverTime µs]`, so the client holds the
   * lock (for the claimTtl it sent) without asking again.
   */
  wake(token: string, grant: HandoffGrant | null): void {
    if (grant === null) this.push(['wake', token]);
    else this.push(['wake', token, grant.fence.toString(), grant.serverTime]);
  }

  /** An out-of-band message; RESP2 connections have no way to take one, so they get none. */
  push(items: readonly Reply[]): void {
    if (this.resp3 && !this.#closed) this.#write(encodePush(items));
  }

  /** QUIT: the reply goes out, then the connection closes. */
  quitAfterReply(): void {
    this.#quitting = true;
  }

  /** Shutdown: blocking commands end, clients get a `shutdown` push, then the socket closes. */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#ended.abort(new CommandError('SHUTDOWN', 'server stopping'));
    await new Promise((resolve) => setImmediate(resolve));
    if (this.#closed) return;
    this.push(['shutdown']);
    const closed = new Promise((resolve) => this.#socket.once('close', resolve));
    this.#end();
    await closed;
  }

  /** Cuts the connection off at once (a shutdown whose grace ran out). */
  destroy(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#moreInput = chunk.length >= FULL_READ;
    this.#parser.feed(chunk);
    this.#run();
  }

  /** Starts every complete request in order, until one blocks, too many wait, or input runs out. */
  #run(): void {
    while (!this.#busy && !this.#closed && !this.#quitting && this.#slots.length < MAX_PENDING) {
      let args: RequestArg[] | null;
      try {
        args = this.#parser.next();
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        this.#slots.push({ reply: { error: error.code, message: error.message }, ready: true });
        this.#quitting = true;
        break;
      }
      if (args === null) break;
      this.#clearSlowInput();
      this.#start(dispatch(this, args));
    }
    this.#flushReady();
    this.#pauseInput(this.#busy || this.#slots.length >= MAX_PENDING);
    if (!this.#paused && this.#parser.midRequest) this.#armSlowInput();
  }

  #start(outcome: Outcome): void {
    const blocking = isBlocking(outcome);
    const reply = blocking ? outcome.blocking : outcome;
    if (!(reply instanceof Promise)) {
      this.#slots.push({ reply, ready: true });
      return;
    }
    const slot: Slot = { reply: null, ready: false };
    this.#slots.push(slot);
    this.#unsettled++;
    if (blocking) this.#busy = true;
    const settle = (value: Reply): void => {
      slot.reply = value;
      slot.ready = true;
      this.#unsettled--;
      if (this.#closed) return;
      if (blocking || this.#paused) {
        if (blocking) this.#busy = false;
        this.#run();
      } else if (this.#unsettled === 0 && !this.#moreInput) {
        // Every request read so far is answered and the socket had no more: nothing could join
        // this write, so it goes now rather than in the check phase (one request at a time,
        // which is what a client in sequence sends, pays no setImmediate per reply).
        this.#flushReady();
      } else {
        this.#flushSoon();
      }
    };
    reply.then(settle, (error: unknown) => settle(toErrorReply(error)));
  }

  /**
   * Replies that arrive together go out in one write: the backend answers a burst of pipelined
   * requests within one turn of the event loop, and a write per reply would cost a syscall each.
   */
  #flushSoon(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => {
      this.#flushing = false;
      if (!this.#closed) this.#flushReady();
    });
  }

  /** Encodes the replies that are ready, in order, and sends them. */
  #flushReady(): void {
    while (this.#slots[0]?.ready) {
      const slot = this.#slots.shift() as Slot;
      this.#out += encodeReply(slot.reply, this.resp3);
    }
    this.#flush();
    if (this.#quitting && this.#slots.length === 0) this.#end();
  }

  /** While a blocking command waits, or too many replies are due, input waits (and no idle timeout runs). */
  #pauseInput(pause: boolean): void {
    if (pause === this.#paused || this.#closed) return;
    this.#paused = pause;
    if (pause) {
      this.#socket.pause();
      this.#socket.setTimeout(0);
    } else {
      this.#socket.setTimeout(this.ctx.limits.idleTimeout);
      this.#socket.resume();
    }
  }

  #flush(): void {
    if (this.#out === '') return;
    const text = this.#out;
    this.#out = '';
    this.#write(text);
  }

  #write(text: string): void {
    if (this.#closed || this.#socket.destroyed || this.#socket.writableEnded) return;
    const flushed = this.#socket.write(text);
    const { maxOutputBytes, slowClientTimeout } = this.ctx.limits;
    if (this.#socket.writableLength > maxOutputBytes) {
      this.#socket.destroy(); // it reads nothing: telling it is pointless
      return;
    }
    if (!flushed && this.#slowOutput === null) {
      this.#slowOutput = setTimeout(() => this.#socket.destroy(), slowClientTimeout);
      this.#slowOutput.unref();
    }
  }

  #armSlowInput(): void {
    if (this.#slowInput !== null) return;
    const ms = this.ctx.limits.slowClientTimeout;
    this.#slowInput = setTimeout(() => {
      this.#slowInput = null;
      this.#out += encodeReply({ error: 'LIMIT', message: `request not completed within ${ms} ms` }, this.resp3);
      this.#flush();
      this.#end();
    }, ms);
    this.#slowInput.unref();
  }

  #clearSlowInput(): void {
    if (this.#slowInput !== null) clearTimeout(this.#slowInput);
    this.#slowInput = null;
  }

  #clearSlowOutput(): void {
    if (this.#slowOutput !== null) clearTimeout(this.#slowOutput);
    this.#slowOutput = null;
  }

  /** Closes with a reason the client can see (RESP3: a `closing` push). */
  #drop(reason: string): void {
    this.push(['closing', reason]);
    this.#end();
  }

  /** Flushes and closes; a client that does not take the last bytes is cut off soon after. */
  #end(): void {
    if (this.#closed) return;
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /**
   * The connection is gone. Blocking commands leave their queues now; what the client queued or
   * holds itself leaves at its own TTL, as on Redis, so a client that reconnects keeps its place.
   */
  #cleanup(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearSlowInput();
    this.#clearSlowOutput();
    this.#ended.abort(new CommandError('CLOSED', 'connection closed'));
    for (const watching of this.watches.values()) {
      void watching.then((unsubscribe) => unsubscribe()).catch(() => {});
    }
    this.watches.clear();
    this.ctx.registry.remove(this.clientId, this);
    this.ctx.namespaces.leave(this.namespace);
    this.#onClosed(this);
  }
}

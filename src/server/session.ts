/**
 * One client connection: reads requests in order, runs each against the shared store, writes
 * the replies in the same order (pipelining), and pushes wake-ups and events (RESP3). A
 * blocking command (HOLDFAST.LOCK / TAKE with WAIT) holds the requests behind it, as in Redis.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { HandoffGrant } from '../backend.js';
import { dispatch } from './commands/index.js';
import type { ServerContext } from './context.js';
import { Ledger } from './ledger.js';
import type { WakeTarget } from './registry.js';
import { encodePush, encodeReply, type Reply } from './reply.js';
import { ProtocolError, RequestParser } from './resp-parser.js';
import { anchored } from './time.js';

/** The namespace a connection starts in: the same as `connect()`'s default prefix. */
export const DEFAULT_PREFIX = 'holdfast:';
/** How long a closing connection may take to flush before it is dropped. */
const CLOSE_GRACE_MS = 1000;

/** A blocking command's server-side waiter, woken by the store's hand-off. */
export interface SessionWaiter {
  wake(): void;
  /** Stops waiting and leaves the queue; the command then replies `reply`. */
  cancel(reply: Reply): void;
}

export class Session implements WakeTarget {
  readonly ctx: ServerContext;
  readonly ledger = new Ledger();
  /** This connection's WATCH patterns and how to end each subscription. */
  readonly watches = new Map<string, () => void>();
  readonly waiters = new Map<string, SessionWaiter>();
  clientId = randomBytes(9).toString('base64url');
  /** CLIENT SETNAME: kept for CLIENT GETNAME, used for nothing else. */
  clientName = '';
  prefix = DEFAULT_PREFIX;
  resp3 = false;
  authenticated: boolean;
  authFailures = 0;
  readonly #socket: Socket;
  readonly #parser: RequestParser;
  readonly #onClosed: (session: Session) => void;
  #busy = false;
  #closed = false;
  #quitting = false;
  #out = '';
  #slowInput: NodeJS.Timeout | null = null;
  #slowOutput: NodeJS.Timeout | null = null;

  constructor(ctx: ServerContext, socket: Socket, onClosed: (session: Session) => void) {
    this.ctx = ctx;
    this.#socket = socket;
    this.#onClosed = onClosed;
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

  /** The store's monotonic ms, the clock every TTL is counted on. */
  now(): number {
    return this.ctx.store.clock.now();
  }

  /** The store key of a name in this connection's namespace. */
  key(name: string): string {
    return this.prefix + name;
  }

  setClientId(clientId: string): void {
    this.ctx.registry.remove(this.clientId, this);
    this.clientId = clientId;
    this.ctx.registry.add(clientId, this);
  }

  /**
   * A hand-off (or a turn) for one of this connection's waiters. A blocking command asks again,
   * which arms its full TTL; a client gets `["wake", token]`, or with a hand-off's grant
   * `["wake", token, fence, serverTime µs]` so it holds the lock without asking again.
   */
  wake(token: string, grant: HandoffGrant | null): void {
    const waiter = this.waiters.get(token);
    if (waiter) waiter.wake();
    else if (grant === null) this.push(['wake', token]);
    else this.push(['wake', token, grant.fence.toString(), anchored(grant.serverTime)]);
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
    for (const waiter of [...this.waiters.values()]) waiter.cancel({ error: 'SHUTDOWN', message: 'server stopping' });
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
    this.#parser.feed(chunk);
    this.#run();
  }

  /** Runs every complete request in order, until one blocks or input runs out. */
  #run(): void {
    while (!this.#busy && !this.#closed && !this.#quitting) {
      let args: Buffer[] | null;
      try {
        args = this.#parser.next();
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        this.#out += encodeReply({ error: error.code, message: error.message }, this.resp3);
        this.#quitting = true;
        break;
      }
      if (args === null) break;
      this.#clearSlowInput();
      const reply = dispatch(this, args);
      if (reply instanceof Promise) {
        this.#block(reply);
        break;
      }
      this.#out += encodeReply(reply, this.resp3);
    }
    this.#flush();
    if (this.#quitting) this.#end();
    else if (this.#parser.midRequest && !this.#busy) this.#armSlowInput();
  }

  /** Holds further requests (and input) until the blocking command has replied. */
  #block(reply: Promise<Reply>): void {
    this.#busy = true;
    this.#socket.pause();
    this.#socket.setTimeout(0);
    void reply.then((value) => {
      this.#busy = false;
      if (this.#closed) return;
      this.#out += encodeReply(value, this.resp3);
      this.#socket.setTimeout(this.ctx.limits.idleTimeout);
      this.#socket.resume();
      this.#run();
    });
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
    for (const waiter of [...this.waiters.values()]) waiter.cancel(null);
    for (const unsubscribe of this.watches.values()) unsubscribe();
    this.watches.clear();
    this.ctx.registry.remove(this.clientId, this);
    this.#onClosed(this);
  }
}

/**
 * What the shared operations (commands/ops.ts) and server-side waiting (waiting.ts) use of a
 * session: a RESP connection's Session has it, and so does an HTTP client.
 */
export type SessionView = Pick<Session, 'ctx' | 'ledger' | 'waiters' | 'clientId' | 'key' | 'now'>;

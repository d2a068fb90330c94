/**
 * HTTP callers, one per client address: what a RESP connection is to the limits. Each has a
 * ledger (names held or awaited, waiters), the server-side waiters of its long-polls, and a
 * client id under which the store's hand-offs reach them. A client is forgotten once nothing
 * of it is in flight and everything its ledger counted has run out.
 */
import { randomBytes } from 'node:crypto';
import type { ServerContext } from '../context.js';
import { Ledger } from '../ledger.js';
import type { WakeTarget } from '../registry.js';
import type { Reply } from '../reply.js';
import { DEFAULT_PREFIX, type SessionView, type SessionWaiter } from '../session.js';

/** How often forgettable clients are looked for. */
const SWEEP_MS = 30_000;

export class HttpClient implements SessionView, WakeTarget {
  readonly ctx: ServerContext;
  readonly ledger = new Ledger();
  readonly waiters = new Map<string, SessionWaiter>();
  readonly clientId = `http-${randomBytes(9).toString('base64url')}`;
  /** Requests (and event streams) of this client being served now. */
  active = 0;
  /** Event streams open now. */
  streams = 0;
  #keepUntil = 0;

  constructor(ctx: ServerContext) {
    this.ctx = ctx;
    ctx.registry.add(this.clientId, this);
  }

  /** This client as the shared operations take it. */
  get session(): SessionView {
    return this;
  }

  now(): number {
    return this.ctx.store.clock.now();
  }

  /** HTTP names live in the default namespace, so `hf.mutex('report')` is the same lock. */
  key(name: string): string {
    return DEFAULT_PREFIX + name;
  }

  wake(token: string): void {
    this.waiters.get(token)?.wake();
  }

  /** Keeps this client, and what its ledger counts, for at least `ms` more. */
  keep(ms: number): void {
    this.#keepUntil = Math.max(this.#keepUntil, this.now() + ms);
  }

  get forgettable(): boolean {
    return this.active === 0 && this.waiters.size === 0 && this.now() >= this.#keepUntil;
  }

  /** Ends every long-poll with `reply` (each leaves its queue first). */
  cancelWaiters(reply: Reply): void {
    for (const waiter of [...this.waiters.values()]) waiter.cancel(reply);
  }

  dispose(): void {
    this.ctx.registry.remove(this.clientId, this);
  }
}

export class HttpClients {
  readonly #ctx: ServerContext;
  readonly #byAddress = new Map<string, HttpClient>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(ctx: ServerContext) {
    this.#ctx = ctx;
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_MS);
    this.#sweeper.unref();
  }

  get(address: string): HttpClient {
    let client = this.#byAddress.get(address);
    if (!client) {
      client = new HttpClient(this.#ctx);
      this.#byAddress.set(address, client);
    }
    return client;
  }

  /** Shutdown: every long-poll is answered `reply`. */
  cancelAll(reply: Reply): void {
    for (const client of this.#byAddress.values()) client.cancelWaiters(reply);
  }

  close(): void {
    clearInterval(this.#sweeper);
    for (const client of this.#byAddress.values()) client.dispose();
    this.#byAddress.clear();
  }

  #sweep(): void {
    for (const [address, client] of this.#byAddress) {
      if (!client.forgettable) continue;
      client.dispose();
      this.#byAddress.delete(address);
    }
  }
}

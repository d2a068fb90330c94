/**
 * HTTP callers, one per client address: what a RESP connection is to the limits. Each has a
 * ledger (names held or awaited, waiters) and the default namespace's backend behind the
 * server's limits. A client is forgotten once nothing of it is in flight and everything its
 * ledger counted has run out.
 */
import { randomBytes } from 'node:crypto';
import { realClock } from '../../util/clock.js';
import type { Caller } from '../caller.js';
import type { ServerContext } from '../context.js';
import { Ledger } from '../ledger.js';
import { LimitedBackend } from '../limited.js';
import type { Namespace } from '../namespace.js';

/** How often forgettable clients are looked for. */
const SWEEP_MS = 30_000;

export class HttpClient implements Caller {
  readonly ctx: ServerContext;
  readonly ledger = new Ledger();
  readonly clientId = `http-${randomBytes(9).toString('base64url')}`;
  /** HTTP names live in the default namespace, so `hf.mutex('report')` is the same lock. */
  readonly namespace: Namespace;
  readonly backend: LimitedBackend;
  /** Requests (and event streams) of this client being served now. */
  active = 0;
  /** Event streams open now. */
  streams = 0;
  #keepUntil = 0;

  constructor(ctx: ServerContext) {
    this.ctx = ctx;
    this.namespace = ctx.namespaces.enter(ctx.namespaces.default);
    this.backend = new LimitedBackend(this);
  }

  /** Keeps this client, and what its ledger counts, for at least `ms` more. */
  keep(ms: number): void {
    this.#keepUntil = Math.max(this.#keepUntil, realClock.now() + ms);
  }

  get forgettable(): boolean {
    return this.active === 0 && realClock.now() >= this.#keepUntil;
  }

  dispose(): void {
    this.ctx.namespaces.leave(this.namespace);
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

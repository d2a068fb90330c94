import { randomBytes } from 'node:crypto';
import type { Backend, HandoffGrant } from '../backend.js';
import { DEFAULT_PREFIX } from '../defaults.js';
import { ClosedError } from '../errors.js';
import { NO_TELEMETRY, type Telemetry } from '../telemetry/telemetry.js';
import type { Clock } from '../util/clock.js';
import type { Lease, LeaseHost } from './lease.js';
import { Renewer } from './renewer.js';

/** A pending blocking acquire, as the client sees it. */
export interface PendingWaiter {
  /**
   * A hand-off granted this waiter (`grant`), or its turn may have come (null): ask again, now
   * or, given `retryAfter`, when that many ms have passed (see WakeListener).
   */
  wake(grant: HandoffGrant | null, retryAfter?: number): void;
  /**
   * The backend may be another server now (a failover): forget its clock (a hand-off grant is
   * placed in time through it) and ask again.
   */
  resync(): void;
  /** Stops waiting with `error`; resolves once the queue entry has been removed. */
  abandon(error: Error): Promise<void>;
}

export interface Closable {
  close(): Promise<void>;
}

const TOKEN_BYTES = 16;
/** Tokens drawn per call into the OS CSPRNG: one syscall per 256 tokens, not one per lease. */
const POOL_TOKENS = 256;

/** Random bytes taken 16 at a time, like crypto.randomUUID's own entropy cache. */
class TokenPool {
  #pool = Buffer.alloc(0);
  #offset = 0;

  next(): string {
    if (this.#offset + TOKEN_BYTES > this.#pool.length) {
      this.#pool = randomBytes(TOKEN_BYTES * POOL_TOKENS);
      this.#offset = 0;
    }
    const token = this.#pool.toString('base64url', this.#offset, this.#offset + TOKEN_BYTES);
    this.#offset += TOKEN_BYTES;
    return token;
  }
}

/** One token straight from the CSPRNG, for code that has no client (the server's sessions). */
export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

export function newClientId(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * The per-client state every primitive shares: the backend, the clock, the renewer, the live
 * leases and pending waiters (so `close()` can release and abandon them). Not public API.
 */
export class ClientCore implements LeaseHost {
  readonly backend: Backend;
  readonly clock: Clock;
  readonly waiterTtl: number;
  /** The connect() prefix of this client's keys (recipes keep their own keys under it). */
  readonly prefix: string;
  /** The backend pushes no wake-ups: waiters ask on a short timer (waiter.ts). */
  readonly polls: boolean;
  /** Where metrics and spans go (NO_TELEMETRY without a provider). */
  readonly telemetry: Telemetry;
  /** Replicas that must acknowledge a grant before it is handed back (connect's waitReplicas). */
  readonly waitReplicas: number;
  readonly #renewer: Renewer;
  readonly #tokens = new TokenPool();
  readonly #leases = new Set<Lease>();
  readonly #waiters = new Map<string, PendingWaiter>();
  /** Releases sent and not yet answered: close() lets them finish. */
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Event streams and the like, ended by close(). */
  readonly #closables = new Set<Closable>();
  #closed = false;

  constructor(
    backend: Backend,
    clock: Clock,
    waiterTtl: number,
    telemetry: Telemetry = NO_TELEMETRY,
    prefix = DEFAULT_PREFIX,
    waitReplicas = 0,
  ) {
    this.waitReplicas = waitReplicas;
    this.backend = backend;
    this.clock = clock;
    this.waiterTtl = waiterTtl;
    this.prefix = prefix;
    this.polls = backend.capabilities.wakeups === 'poll';
    this.telemetry = telemetry;
    this.#renewer = new Renewer(backend, clock);
  }

  /** 128 bits from the OS CSPRNG: a lease token is the only proof of ownership. */
  newToken(): string {
    return this.#tokens.next();
  }

  get closed(): boolean {
    return this.#closed;
  }

  assertOpen(): void {
    if (this.#closed) throw new ClosedError();
  }

  /** Routed here by the backend when a hand-off may have granted one of our waiters. */
  wake(token: string, grant: HandoffGrant | null, retryAfter?: number): void {
    this.#waiters.get(token)?.wake(grant, retryAfter);
  }

  /**
   * The notification channel came back from an outage: wake-ups may have been lost, and the
   * backend may be another server now (a failed-over primary, which may lack recent writes).
   * Every waiter asks again (re-joining a queue it is no longer in), and every lease is renewed
   * now, so one the backend lost is signalled at once instead of at its next renewal.
   */
  resync(): void {
    for (const waiter of this.#waiters.values()) waiter.resync();
    this.#renewer.renewNow(() => true);
  }

  /**
   * The backend may have lost the state of the names `affected` selects: their auto-renewing
   * leases renew now, and one that is gone is lost (its signal aborts) at once. A lease that
   * does not renew itself keeps its deadline: it is checked when its holder extends it.
   */
  recheck(affected: (name: string) => boolean): void {
    this.#renewer.renewNow((lease) => affected(lease.name));
  }

  addWaiter(token: string, waiter: PendingWaiter): void {
    this.#waiters.set(token, waiter);
  }

  removeWaiter(token: string): void {
    this.#waiters.delete(token);
  }

  remember(closable: Closable): void {
    this.#closables.add(closable);
  }

  forget(closable: Closable): void {
    this.#closables.delete(closable);
  }

  track(lease: Lease): void {
    this.#leases.add(lease);
  }

  scheduleRenewal(lease: Lease, at: number): void {
    this.#renewer.schedule(lease, at);
  }

  cancelRenewal(lease: Lease): void {
    this.#renewer.cancel(lease);
  }

  ended(lease: Lease): void {
    this.#leases.delete(lease);
  }

  inFlight(request: Promise<unknown>): void {
    this.#inFlight.add(request);
    const done = (): void => {
      this.#inFlight.delete(request);
    };
    request.then(done, done);
  }

  /** Abandons every waiter, releases every lease, then closes the backend. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const waiters = [...this.#waiters.values()];
    const leases = [...this.#leases];
    // Failures here only mean the backend will expire those entries at their TTL.
    await Promise.allSettled([
      ...waiters.map((waiter) => waiter.abandon(new ClosedError())),
      ...leases.map((lease) => lease.release()),
      ...[...this.#closables].map((closable) => closable.close()),
      ...this.#inFlight,
    ]);
    this.#renewer.stop();
    await this.backend.close();
  }
}

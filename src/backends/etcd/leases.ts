/**
 * The client's etcd leases: one per TTL class (the holdfast `ttl` rounded up to whole seconds),
 * shared by every holder and waiter key of that class, not one per holder; kept alive over one
 * keep-alive stream. A grant or renewal is confirmed by a keep-alive *sent after* the request
 * began, so the lease on the cluster outlives the local deadline the client counts from before
 * its request (`requestedAt + ttl - drift`, with the cluster's TTL ≥ ttl).
 */
import { BackendError } from '../../errors.js';
import type { KeepAliveStream, LeaseRpc } from './rpc.js';

/** A lease the cluster does not have any more (expired, revoked): its keys are gone. */
export class LeaseGoneError extends Error {}

interface Slot {
  readonly seconds: number;
  id: string | null;
  granting: Promise<string> | null;
  /** The TTL the cluster granted (it raises a request below its minimum), seconds. */
  ttl: number;
  /** When the latest confirmed keep-alive (or the grant) was sent: the lease lives its TTL from then. */
  confirmedAt: number;
  /** The keep-alive in flight: when it was sent, and its confirmation. */
  inFlight: { readonly sentAt: number; readonly confirmed: Promise<void> } | null;
  /** The keep-alive about to be sent (after the current synchronous work), shared by whoever asks until then. */
  next: Promise<void> | null;
  timer: NodeJS.Timeout | null;
}

/** Whole seconds for a ttl in ms: etcd leases know no finer. */
export function leaseSeconds(ttl: number): number {
  return Math.max(1, Math.ceil(ttl / 1000));
}

export class LeasePool {
  readonly #rpc: LeaseRpc;
  readonly #timeout: number;
  readonly #slots = new Map<number, Slot>();
  readonly #byId = new Map<string, Slot>();
  #stream: KeepAliveStream | null = null;
  #closed = false;

  constructor(rpc: LeaseRpc, timeout: number) {
    this.#rpc = rpc;
    this.#timeout = timeout;
  }

  /** The lease for `ttl` ms (granted on first use); its id. */
  lease(ttl: number): Promise<string> {
    const seconds = leaseSeconds(ttl);
    let slot = this.#slots.get(seconds);
    if (!slot) {
      slot = {
        seconds,
        id: null,
        granting: null,
        ttl: seconds,
        confirmedAt: 0,
        inFlight: null,
        next: null,
        timer: null,
      };
      this.#slots.set(seconds, slot);
    }
    if (slot.id !== null) return Promise.resolve(slot.id);
    slot.granting ??= this.#grant(slot);
    return slot.granting;
  }

  /** The TTL (ms) the cluster keeps the lease for after each keep-alive. */
  grantedTtl(id: string): number | null {
    const slot = this.#byId.get(id);
    return slot ? slot.ttl * 1000 : null;
  }

  /**
   * performance.now() of the latest confirmed keep-alive's sending (or the grant's) for lease
   * `id`: the cluster keeps it at least its TTL from then. null when it is not this client's.
   */
  confirmedAt(id: string): number | null {
    const slot = this.#byId.get(id);
    return slot && slot.id === id ? slot.confirmedAt : null;
  }

  /**
   * Resolves once a keep-alive of lease `id` sent at or after `after` (performance.now()) is
   * confirmed; rejects with LeaseGoneError when the cluster no longer has the lease.
   */
  refresh(id: string, after: number): Promise<void> {
    const slot = this.#byId.get(id);
    if (!slot || slot.id !== id) return Promise.reject(new LeaseGoneError(`lease ${id} is not this client's`));
    // Already confirmed by a keep-alive (or the grant itself) sent since then.
    if (slot.confirmedAt >= after) return Promise.resolve();
    const shared = slot.inFlight;
    if (shared && shared.sentAt >= after) return shared.confirmed;
    // Shared by every request that asks until it is sent, so that acquires in parallel cost a
    // keep-alive per turn of the event loop, not one each: sent on the next turn while another
    // is in flight (busy), else as soon as the caller's synchronous work is done. On the next
    // turn, a lone acquire's Txn is on the wire first and the acquire waited ~0.5 ms for this
    // answer after the Txn's (bench, loaded machine); sent at once, it comes back first.
    const send = slot.inFlight ? setImmediate : queueMicrotask;
    slot.next ??= new Promise<void>((resolve, reject) => {
      send(() => {
        slot.next = null;
        const sentAt = performance.now();
        const confirmed = this.#keepAlive(slot, id, sentAt).finally(() => {
          if (slot.inFlight?.confirmed === confirmed) slot.inFlight = null;
        });
        slot.inFlight = { sentAt, confirmed };
        confirmed.then(resolve, reject);
      });
    });
    return slot.next;
  }

  /** Revokes every lease (deleting whatever keys are still on them) and stops keeping alive. */
  async close(): Promise<void> {
    this.#closed = true;
    const ids: string[] = [];
    for (const slot of this.#slots.values()) {
      if (slot.timer) clearTimeout(slot.timer);
      if (slot.id !== null) ids.push(slot.id);
    }
    this.#stream?.close();
    await Promise.allSettled(ids.map((id) => this.#rpc.revoke(id)));
  }

  async #grant(slot: Slot): Promise<string> {
    try {
      const sentAt = performance.now();
      const { id, ttl } = await this.#rpc.grant(slot.seconds);
      slot.id = id;
      slot.ttl = ttl;
      slot.confirmedAt = sentAt;
      this.#byId.set(id, slot);
      this.#schedule(slot);
      return id;
    } finally {
      slot.granting = null;
    }
  }

  /** Keeps the lease alive at a third of its TTL, like etcd's own clients. */
  #schedule(slot: Slot): void {
    if (this.#closed) return;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = setTimeout(
      () => {
        slot.timer = null;
        const id = slot.id;
        if (id === null) return;
        this.refresh(id, performance.now()).then(
          () => this.#schedule(slot),
          (error: unknown) => {
            if (!(error instanceof LeaseGoneError)) this.#schedule(slot);
          },
        );
      },
      (slot.ttl * 1000) / 3,
    );
    slot.timer.unref();
  }

  async #keepAlive(slot: Slot, id: string, sentAt: number): Promise<void> {
    this.#stream ??= this.#rpc.keepAliveStream(() => {
      this.#stream = null;
    });
    const ttl = await this.#stream.keepAlive(id, this.#timeout).catch((error: unknown) => {
      // A stream that failed or timed out may sit on a member cut off from the cluster: the
      // next keep-alive opens a new one, on any member.
      this.#stream?.close();
      this.#stream = null;
      throw new BackendError(`etcd keep-alive of lease ${id} failed`, { cause: error });
    });
    if (ttl <= 0) {
      this.#forget(slot, id);
      throw new LeaseGoneError(`the cluster no longer has lease ${id} (expired or revoked)`);
    }
    if (slot.id === id) slot.confirmedAt = Math.max(slot.confirmedAt, sentAt);
  }

  #forget(slot: Slot, id: string): void {
    this.#byId.delete(id);
    if (slot.id === id) slot.id = null;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
  }
}

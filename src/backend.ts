/**
 * The Backend contract, in domain terms. Primitives (mutex, semaphore, …) only ever talk to
 * this interface; every backend (memory, redis, …) implements it with the same algorithm:
 *
 * A *name* is a pool of permits with a FIFO wait queue. A mutex is a pool of one permit; a
 * semaphore of `limit`. Each grant is a *holder* (token, permits, fence, expiry on the
 * backend's clock). Each waiter is a queue entry (token, permits, limit, ttl, client id) with a
 * short expiry of its own (`waiterTtl`) that the waiting client keeps refreshing.
 *
 * Every operation first *purges*: holders past their expiry and waiters past theirs are
 * removed. Whenever permits are freed (release, purge, force-release, a waiter leaving) the
 * backend *drains*: while the head waiter's permits fit (`used + permits <= its limit`), it is
 * granted on the spot with a fence and an expiry of the waiter's `claimTtl` (the claim window
 * `min(ttl, waiterTtl)`, computed once by the client and sent with its request, so a waiter that
 * died after enqueueing cannot hold the lock for a whole TTL) and its client is woken with the
 * token and the grant (fence, backend time of the grant). The waiter
 * holds from that message on: its last queued acquire told it the backend's time then, so it
 * places the grant on its own clock (no earlier than the send time of that acquire plus the
 * backend time elapsed since) and counts its local deadline from there; its first renewal arms
 * the full TTL. A waiter woken without a grant, or without a usable time, calls `acquire` again
 * with the same token, which recognises the grant, re-arms the full TTL and returns the fence.
 * Strict FIFO: a large request at the head is not overtaken by smaller ones behind it.
 *
 * Fences: `fence = max(lastFence + 1, backend wall-clock microseconds)`, so a fence is greater
 * than every earlier one of that name even after the backend lost its data.
 *
 * The contract is layered: every backend implements the required core of `Backend` (leases);
 * what it can hold beyond that it declares in `capabilities` and provides as the optional
 * `rates`, `events` and `values` members (src/capabilities.ts checks them for primitives).
 * Backend time has one encoding: `serverTime` is an integer count of µs on the backend's
 * clock; wall-clock `at` fields stay ms since the epoch. Owners go in as JSON text ('' for
 * none) and come out parsed (`Json`, or null).
 */
import type { Json } from './owner.js';

/** What a primitive is, for `inspect` and events; it does not change how permits are counted. */
export const LOCK_KINDS = ['mutex', 'semaphore', 'rwlock', 'election'] as const;
export type LockKind = (typeof LOCK_KINDS)[number];

/** Every kind of name an event can be about. */
export const EVENT_KINDS = [...LOCK_KINDS, 'rate-limiter'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface AcquireRequest {
  readonly name: string;
  readonly kind: LockKind;
  /** ≥128 random bits, created by the client; the only proof of ownership. */
  readonly token: string;
  readonly permits: number;
  /** The pool size this caller believes in; all users of a name should agree. */
  readonly limit: number;
  /** Lease length in ms, counted on the backend's clock from this call. */
  readonly ttl: number;
  /** true: join (or stay in) the queue when not granted now; false: a pure try. */
  readonly enqueue: boolean;
  /** How long the queue entry lives unless this call is repeated, in ms. */
  readonly waiterTtl: number;
  /**
   * The claim window, `min(ttl, waiterTtl)`, computed by the client: how long a hand-off grant
   * to this waiter lasts before its client confirms it. Backends arm it, never compute it.
   */
  readonly claimTtl: number;
  /** Small JSON text the holder attaches (shown by inspect and events), or '' for none. */
  readonly owner: string;
}

export type AcquireResult =
  | { readonly granted: true; readonly fence: bigint }
  | {
      readonly granted: false;
      /** 0-based place in the queue, or -1 when not queued (a try). */
      readonly position: number;
      /**
       * For the head of the queue: ms until the earliest holder expires, counted from the
       * backend's decision (fractional where the backend knows it to the µs), so the waiter can
       * retry exactly then (expiry is not an event on every backend). null otherwise.
       */
      readonly retryAfter: number | null;
      /**
       * The backend's clock when it decided: an integer count of µs, any origin. A later
       * hand-off grant says when it happened on the same clock, so the waiter can place the
       * grant on its own clock without a second round trip. null when not known.
       */
      readonly serverTime: number | null;
    };

export interface ExtendRequest {
  readonly name: string;
  readonly token: string;
  readonly ttl: number;
}

export interface HolderInfo {
  readonly fence: bigint;
  readonly permits: number;
  /** ms until the backend expires it. */
  readonly expiresIn: number;
  /** What the holder attached as `owner`, parsed; null when none was. */
  readonly owner: Json;
}

export interface WaiterInfo {
  readonly permits: number;
  /** What the waiter attached as `owner`, parsed; null when none was. */
  readonly owner: Json;
}

export interface LockState {
  readonly name: string;
  readonly kind: LockKind | null;
  readonly limit: number | null;
  readonly holders: readonly HolderInfo[];
  readonly waiters: readonly WaiterInfo[];
}

/** A wake-up strategy: how waiters of a backend learn that their turn may have come. */
export type Wakeups = 'grant' | 'wake' | 'poll';

/** What a backend can hold honestly, beyond the required core. */
export interface Capabilities {
  /** Lock kinds held honestly. A quorum of independent masters cannot keep a semaphore's count. */
  readonly locks: readonly LockKind[];
  /**
   * How waiters learn their turn:
   * 'grant' – a release hands the lock to the head waiter and the wake-up carries the grant;
   * 'wake'  – a wake-up says "ask again" (no grant);
   * 'poll'  – no pushes: waiters ask at retryAfter and on a short safety timer.
   */
  readonly wakeups: Wakeups;
  /** Rate algorithms held exactly; [] when there is no `rates`. */
  readonly rateAlgorithms: readonly RateAlgorithm[];
  /**
   * Why the backend does not declare a lock kind or capability (keyed by the kind, or by
   * 'rates' / 'events' / 'values'), appended to the UnsupportedError's message.
   */
  readonly why?: Readonly<Partial<Record<LockKind | CapabilityName, string>>>;
  /** true exactly when `backend.events` is there. */
  readonly events: boolean;
  /** true exactly when `backend.values` is there. */
  readonly values: boolean;
  /** true exactly when `backend.replicas` is there (`waitReplicas`); absent means false. */
  readonly replicas?: boolean;
}

/** The optional capabilities by name, as `requireCapability` takes them. */
export type CapabilityName = 'rates' | 'events' | 'values' | 'replicas';

/** Rate limiting, held on the backend's clock. */
export interface RateCapability {
  /** One rate-limiter decision, or a waiter's turn in its FIFO queue. One round trip. */
  take(request: RateRequest): Promise<RateResult>;
  /** A rate-limiter waiter gives up: leaves the queue, and the new head is woken. */
  leave(name: string, token: string): Promise<void>;
}

/** Change events, and the sweeps that report expiries when nobody touches a name. */
export interface EventCapability {
  /**
   * Delivers every event about names matching the glob `pattern` until the returned function
   * is called. All watches of a client share its one subscriber connection.
   */
  watch(pattern: string, listener: (event: BackendEvent) => void): Promise<() => Promise<void>>;
  /**
   * Purges and drains `name` now (so expiries are reported as events even when no client
   * touches the name) and returns ms until its next holder or waiter expiry, or null if none.
   */
  sweep(name: string): Promise<number | null>;
}

/** A small TTL'd value store for `cached()`, under the client's prefix. */
export interface ValueCapability {
  /** The value under `key`, or undefined when there is none or it expired. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for `ttl` ms, replacing any value there. */
  set(key: string, value: string, ttl: number): Promise<void>;
}

/**
 * Replica acknowledgement, for `waitReplicas`: a primary that replicates asynchronously can
 * say when its replicas have every write one client sent so far (Redis `WAIT`).
 */
export interface ReplicaCapability {
  /**
   * Re-arms a held lease (as `extend` does: a write of this client's own, later than the grant
   * it finds) and waits, up to the backend's own bound, until `count` replicas acknowledged that
   * write, and so the grant. `held`: whether the lease still held; `acknowledged`: how many
   * replicas did (fewer than `count` when the bound passed). Rejects with a `ReplicationError`
   * ('refused') when the server will not count: the command disabled or renamed (managed
   * services), or a replica given as the primary.
   */
  confirm(request: ExtendRequest, count: number): Promise<{ readonly held: boolean; readonly acknowledged: number }>;
  /** Resolves when the server counts acknowledgements at all; rejects as `confirm` does if not. */
  probe(): Promise<void>;
}

/** One client's connection to a backend. Methods reject only with `HoldfastError`s. */
export interface Backend {
  /** What this backend is, for messages: 'memory', 'redis', 'holdfast', 'etcd', … */
  readonly label: string;
  /** Identifies this client to the backend, so hand-offs can wake it. */
  readonly clientId: string;
  /** What this backend can hold honestly, beyond the required core. */
  readonly capabilities: Capabilities;
  /**
   * Grant now, or (with `enqueue`) queue; one round trip. Idempotent per token: a token that
   * already holds gets its TTL re-armed and its fence back; a queued token refreshes its entry.
   */
  acquire(request: AcquireRequest): Promise<AcquireResult>;
  /**
   * Removes the token as holder or waiter and drains the queue. true only when it was a
   * holder. Never touches any other token.
   */
  release(name: string, token: string): Promise<boolean>;
  /** Re-arms the TTL from now; false when the token no longer holds. */
  extend(request: ExtendRequest): Promise<boolean>;
  /** Many extends in one round trip (renewal batching); results in request order. */
  extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]>;
  /** The state of a name, or null when nothing holds or waits for it. */
  inspect(name: string): Promise<LockState | null>;
  /** Names with holders or waiters that match a glob (`*`, `?`). */
  list(pattern: string): Promise<string[]>;
  /** Removes every holder of a name (their renewals then fail) and drains; returns how many. */
  forceRelease(name: string): Promise<number>;
  /** Closes connections. Does not release anything (the client does that first). */
  close(): Promise<void>;
  /** Optional capabilities: present exactly when `capabilities` declares them. */
  readonly rates?: RateCapability;
  readonly events?: EventCapability;
  readonly values?: ValueCapability;
  readonly replicas?: ReplicaCapability;
}

/**
 * What changed. Published by the backend in the same atomic step as the change:
 * - `acquired`: granted to the caller of acquire; `handoff`: granted to a queued waiter by a
 *   release, expiry, leave or force-release (it is woken too);
 * - `released`: freed by its holder; `expired`: its TTL ran out (reported by the next operation
 *   or sweep on the name); `lost`: removed by forceRelease;
 * - `waiting`: joined a queue (not on refreshes); `left`: a waiter left (gave up or its entry
 *   expired); `rate-limited`: a rate-limiter refusal (a try, or a waiter told to wait).
 */
export const LOCK_EVENT_TYPES = [
  'acquired',
  'handoff',
  'released',
  'expired',
  'lost',
  'waiting',
  'left',
  'rate-limited',
] as const;
export type LockEventType = (typeof LOCK_EVENT_TYPES)[number];

export interface BackendEvent {
  readonly type: LockEventType;
  readonly name: string;
  readonly kind: EventKind;
  /** The grant's fence for holder events; null for waiter and rate-limiter events. */
  readonly fence: bigint | null;
  readonly permits: number;
  /** What the holder or waiter attached as `owner`, parsed; null when none was. */
  readonly owner: Json;
  /** Backend wall clock, ms since the epoch. */
  readonly at: number;
  /** For `acquired` / `handoff`: ms until the grant expires unless renewed; else null. */
  readonly expiresIn: number | null;
}

/**
 * Rate-limiter algorithms, all on the backend's clock:
 * - `sliding-window` (default, exact): a log of admissions; never more than `limit` (counting
 *   `cost`s) in any half-open interval of length `window`. An admission at t leaves the window
 *   at t + window.
 * - `token-bucket` (GCRA): a smooth rate of `limit` per `window` with bursts up to `burst`.
 *   State is one theoretical arrival time (tat); emission interval T = window / limit;
 *   new = max(tat, now) + cost * T; allowed when new - now <= burst * T.
 * - `fixed-window`: a counter per aligned window floor(now / window); at most `limit` per
 *   aligned window (up to 2 × limit across a window boundary).
 * Waiters (token non-null) queue FIFO: while anyone is queued, only the head may be admitted,
 * and tries are refused, so a process that hammers cannot starve one that waits. The head is
 * told exactly when it will fit (retryAfter); when the head is admitted or leaves, the new head
 * is woken (onWake with its token) to ask in turn. A waiter that asks again keeps its place, and
 * its latest ask (cost, client) is what counts from then on, also in a refused try's retryAfter.
 */
export const RATE_ALGORITHMS = ['sliding-window', 'token-bucket', 'fixed-window'] as const;

/**
 * What a backend that keeps every invariant on one atomic engine declares (memory, one Redis, the
 * holdfast server): every lock kind, hand-off grants, every rate algorithm, events and values.
 */
export const EVERY_CAPABILITY: Capabilities = {
  locks: LOCK_KINDS,
  wakeups: 'grant',
  rateAlgorithms: RATE_ALGORITHMS,
  events: true,
  values: true,
};
export type RateAlgorithm = (typeof RATE_ALGORITHMS)[number];

export interface RateRequest {
  readonly name: string;
  readonly algorithm: RateAlgorithm;
  readonly limit: number;
  /** ms */
  readonly window: number;
  /** token-bucket only: the bucket size (defaults to limit upstream); ignored otherwise. */
  readonly burst: number;
  readonly cost: number;
  /** null: a try (never queues). A token: a waiter, queued FIFO until admitted. */
  readonly token: string | null;
  readonly waiterTtl: number;
}

export interface RateResult {
  readonly allowed: boolean;
  /** How much more could be admitted right now (after this decision). */
  readonly remaining: number;
  /** ms until `cost` could be admitted: 0 when allowed; for a waiter behind others, -1. */
  readonly retryAfter: number;
  /** ms until the limiter is back to full capacity. */
  readonly resetIn: number;
  /** Backend wall clock of the decision, ms since the epoch. */
  readonly at: number;
  /** 0-based queue position of a waiter that was not admitted; -1 otherwise. */
  readonly position: number;
  /**
   * `retryAfter` before it was rounded up to whole ms (fractional ms), where the backend gives
   * it: a waiter asks again exactly then. Absent: `retryAfter` is all there is.
   */
  readonly exactRetryAfter?: number;
  /**
   * The backend's clock at the decision (integer µs), where it gives it: `exactRetryAfter` then
   * counts from the decision, which came after the request was sent.
   */
  readonly serverTime?: number;
}

/**
 * What a hand-off granted, sent with the wake-up so the waiter holds the lock at once, in one
 * message, instead of asking again.
 */
export interface HandoffGrant {
  readonly fence: bigint;
  /**
   * The backend's clock at the grant (integer µs), on the same clock as `serverTime` in acquire
   * results. The grant lasts the `claimTtl` the waiter sent.
   */
  readonly serverTime: number;
}

/**
 * How a backend reports that one of this client's waiters may now hold: `grant` when a
 * hand-off granted it; null when it should ask again (its turn may have come). `retryAfter`
 * (with a null grant), when the backend knows it: ms until the waiter's turn can come at the
 * soonest (it now heads the queue, behind holders that must expire or leave, and a leaving
 * holder wakes it again), so it asks then instead of now.
 */
export type WakeListener = (token: string, grant: HandoffGrant | null, retryAfter?: number) => void;

/** What every backend is built with. */
export interface BackendContext {
  /** Unique per client (random); waiters of this client are woken under it. */
  readonly clientId: string;
  /** Prepended to every key and channel so holdfast never collides with other data. */
  readonly prefix: string;
  /** Called with a waiter's token when a hand-off (or any change) may have granted it. */
  readonly onWake: WakeListener;
  /**
   * Called after the notification channel came back from an outage, during which wake-ups may
   * have been lost: every waiter should ask again now rather than at its safety timer.
   */
  readonly onResync: () => void;
  /**
   * The `onWake` listener only passes the wake-up on and never calls into the backend before it
   * returns, so a backend may call it inside the operation that caused it rather than after it
   * (the embedded server: a remote waiter's hand-off push goes out before the rest of the
   * releasing request's handling, ~0.1 ms sooner). Optional, default false: only the memory
   * backend makes use of it.
   */
  readonly wakesInline?: boolean;
  /**
   * Called when the backend learns that the state of some names may have been lost (a Redis
   * Cluster slot changed master: replication is asynchronous, so a failover can lose the
   * latest grants). The client renews its leases on the names `affected` selects at once, so a
   * lease that is gone aborts its signal now rather than at its next renewal. Optional: a
   * context made without it (a test, a tool) only loses that promptness.
   */
  readonly onRecheck?: (affected: (name: string) => boolean) => void;
}

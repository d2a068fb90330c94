/**
 * The quorum ("Redlock") backend: N independent Redis masters, each running the single-Redis
 * backend's scripts unchanged; a lease holds when a majority granted it within its validity.
 * What is added here is only the counting (tally.ts), the quorum fence (fences.ts), the restart
 * guard (node.ts, scripts/epoch.lua) and the hand-off settling (wakes.ts). See the README's
 * "Deployments" section for what it guarantees and why.
 */
import type { Redis } from 'ioredis';
import type {
  AcquireRequest,
  AcquireResult,
  Backend,
  Capabilities,
  EventCapability,
  ExtendRequest,
  LockKind,
  LockState,
} from '../../backend.js';
import { requireLockKind } from '../../capabilities.js';
import { driftMargin } from '../../engine/lease.js';
import { ClosedError, QuorumError, ValidationError } from '../../errors.js';
import { settleFence } from './fences.js';
import type { NodeReply, NodeStatus, QuorumNode } from './node.js';
import { type AcquireReply, type NodeOps, numberSeed } from './node-ops.js';
import type { QuorumScripts } from './scripts.js';
import { counted, kthLargest, majorityOf, mergeStates, outcomesOf } from './tally.js';
import type { Wakes } from './wakes.js';
import { grantEvent, QuorumWatches } from './watches.js';

type Refused = Extract<AcquireResult, { granted: false }>;

/** Lock kinds a majority of independent nodes holds honestly (see CAPABILITIES.why). */
const QUORUM_LOCK_KINDS_LIST: readonly LockKind[] = ['mutex', 'rwlock', 'election'];

/**
 * Semaphores and rate limiters are not declared: their invariant does not hold across a
 * majority. Events and values are not built yet (each node sees only its own part of a grant).
 */
const CAPABILITIES: Capabilities = {
  locks: QUORUM_LOCK_KINDS_LIST,
  wakeups: 'wake',
  rateAlgorithms: [],
  events: true,
  values: false,
  why: {
    semaphore:
      'a majority quorum cannot keep a count of permits: with 3 nodes and 2 permits, holders on nodes {1,2}, {2,3} and {1,3} each have a majority while no node counts more than 2',
    rates:
      'a majority quorum cannot bound a rate: each node admits its own limit, and clients that reach different majorities never see one another’s admissions',
    values: 'a value store is not available on a quorum yet',
  },
};

/** How long a waiter holding a grant on only a minority of nodes keeps it before giving it back. */
const PARTIAL_GRACE_MS = 60;
/** Retries after a split are spread over this many ms, so competing waiters stop colliding. */
const JITTER_MS = 40;

export interface QuorumParts {
  readonly nodes: readonly QuorumNode[];
  readonly wakes: Wakes;
  readonly clientId: string;
  readonly prefix: string;
  readonly timeout: number;
  readonly maxTtl: number;
  readonly fenceMemory: number;
  readonly scripts: QuorumScripts;
  readonly ops: NodeOps;
}

export class QuorumBackend implements Backend {
  readonly label = 'redlock';
  readonly capabilities = CAPABILITIES;
  readonly clientId: string;
  readonly #parts: QuorumParts;
  readonly #nodes: readonly QuorumNode[];
  readonly #quorum: number;
  /** Waiters holding grants on a minority of nodes since (local ms): see #partial. */
  readonly #partialSince = new Map<string, number>();
  readonly #pending = new Set<Promise<unknown>>();
  /** Tokens that were told to wait: their grant is reported as a hand-off. */
  readonly #waitingTokens = new Set<string>();
  #watches: QuorumWatches | null = null;
  #closed = false;
  readonly events: EventCapability = {
    watch: (pattern, listener) => {
      this.#assertOpen();
      this.#watches ??= new QuorumWatches(this.#nodes, this.#quorum, this.#parts.prefix, this.#parts.timeout);
      return this.#watches.watch(pattern, listener);
    },
    sweep: (name) => this.#sweep(name),
  };

  constructor(parts: QuorumParts) {
    this.#parts = parts;
    this.#nodes = parts.nodes;
    this.clientId = parts.clientId;
    this.#quorum = majorityOf(parts.nodes.length);
  }

  /** Each node's standing, in the order of the URLs. */
  status(): NodeStatus[] {
    const now = performance.now();
    return this.#nodes.map((node) => node.status(now));
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    this.#assertOpen();
    requireLockKind(this, request.kind, `"${request.name}"`);
    if (request.ttl > this.#parts.maxTtl) {
      throw new ValidationError(
        `ttl ${request.ttl} ms is above this quorum's maxTtl (${this.#parts.maxTtl} ms), the time a restarted node stays out`,
      );
    }
    const started = performance.now();
    const budget = request.ttl - driftMargin(request.ttl);
    const seed = numberSeed();
    const replies = await this.#all<AcquireReply>(
      (_, client) => this.#parts.ops.acquire(client, seed, request),
      Math.max(1, Math.min(this.#parts.timeout, budget)),
    );
    const granted = replies.flatMap((reply, i) => (reply.ok && reply.value[0].granted ? [i] : []));
    const answered = counted(replies).length;
    const what = `acquire "${request.name}"`;
    if (granted.length >= this.#quorum) {
      const fence = await this.#settle(request, replies);
      // Validity: ttl − elapsed − drift, counted from before the first request.
      if (fence !== null && performance.now() - started < budget) {
        this.#partialSince.delete(request.token);
        this.#waitingTokens.delete(request.token);
        return { granted: true, fence };
      }
      this.#releaseEverywhere(request.name, request.token);
      if (!request.enqueue)
        throw this.#error(
          'acquire',
          `${what} (majority granted but not confirmed within the lease's validity)`,
          replies,
        );
      return this.#retry();
    }
    if (answered < this.#quorum) {
      this.#releaseEverywhere(request.name, request.token);
      throw this.#error('acquire', what, replies);
    }
    if (!request.enqueue) {
      if (granted.length > 0 || replies.some((reply) => !reply.ok))
        this.#releaseEverywhere(request.name, request.token);
      return { granted: false, position: -1, retryAfter: null, serverTime: null };
    }
    this.#waitingTokens.add(request.token);
    if (granted.length > 0) return this.#partial(request, replies);
    this.#partialSince.delete(request.token);
    return this.#queued(replies);
  }

  /** The fence of a grant a majority made, or null when its write-back was not confirmed (fences.ts). */
  #settle(request: AcquireRequest, replies: readonly NodeReply<AcquireReply>[]): Promise<bigint | null> {
    const handoff = this.#waitingTokens.has(request.token);
    return settleFence(this.#nodes, this.#quorum, replies, request, this.#parts, {
      event: (fence) => grantEvent(this.#parts.prefix, request, fence, handoff),
      background: (work) => this.#background(work),
    });
  }

  /**
   * A waiter that holds a minority of grants: the other nodes may still be handing off to it,
   * so it keeps them for a moment; still short on its next turn, it gives them back (to each
   * node's next waiter: queues of different nodes can disagree, and someone must give way).
   */
  #partial(request: AcquireRequest, replies: readonly NodeReply<AcquireReply>[]): AcquireResult {
    const since = this.#partialSince.get(request.token);
    const now = performance.now();
    if (since === undefined) {
      this.#partialSince.set(request.token, now);
      const queued = this.#queued(replies);
      return { ...queued, retryAfter: PARTIAL_GRACE_MS + Math.random() * JITTER_MS };
    }
    if (now - since < PARTIAL_GRACE_MS) return { ...this.#queued(replies), retryAfter: PARTIAL_GRACE_MS };
    this.#partialSince.delete(request.token);
    this.#releaseEverywhere(request.name, request.token);
    return this.#retry();
  }

  #retry(): AcquireResult {
    return { granted: false, position: 0, retryAfter: Math.random() * JITTER_MS, serverTime: null };
  }

  /** Queued: the place a majority of nodes gives at least, and when a majority's heads can go. */
  #queued(replies: readonly NodeReply<AcquireReply>[]): Refused {
    const waiting = counted(replies)
      .map(([result]) => result)
      .filter((result): result is Refused => !result.granted);
    const position = -(
      kthLargest(
        waiting.map((r) => -Math.max(0, r.position)),
        this.#quorum,
      ) ?? 0
    );
    const heads = waiting.filter((r) => r.position === 0 && r.retryAfter !== null).map((r) => -(r.retryAfter ?? 0));
    const soonest = kthLargest(heads, this.#quorum);
    return { granted: false, position, retryAfter: soonest === undefined ? null : -soonest, serverTime: null };
  }

  async release(name: string, token: string): Promise<boolean> {
    this.#assertOpen();
    this.#partialSince.delete(token);
    this.#waitingTokens.delete(token);
    const seed = numberSeed();
    const replies = await this.#all(
      (_, client) => this.#parts.ops.release(client, seed, name, token),
      this.#parts.timeout,
    );
    const held = counted(replies).filter(Boolean).length;
    if (held >= this.#quorum) return true;
    if (counted(replies).length < this.#quorum) {
      throw this.#error('release', `release "${name}"`, replies, (v) => (v ? 'granted' : 'not-held'));
    }
    return false;
  }

  async extend(request: ExtendRequest): Promise<boolean> {
    const [held] = await this.extendMany([request]);
    return held === true;
  }

  /**
   * Renewal by majority: true once a majority re-armed it; false once so many nodes said it
   * is gone that no majority can; a QuorumError otherwise (too few answered to know).
   */
  async extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]> {
    this.#assertOpen();
    if (requests.length === 0) return [];
    const shortest = Math.min(...requests.map((r) => r.ttl - driftMargin(r.ttl)));
    const replies = await this.#all(
      (backend) => backend.extendMany(requests),
      Math.max(1, Math.min(this.#parts.timeout, shortest)),
    );
    return requests.map((request, i) => {
      const answers = counted(replies).map((flags) => flags[i] === true);
      const held = answers.filter(Boolean).length;
      if (held >= this.#quorum) return true;
      if (answers.length - held > this.#nodes.length - this.#quorum) return false;
      const single = replies.map(
        (reply): NodeReply<boolean> => (reply.ok ? { ok: true, value: reply.value[i] === true } : reply),
      );
      throw this.#error('extend', `renew "${request.name}"`, single, (v) => (v ? 'granted' : 'not-held'));
    });
  }

  async inspect(name: string): Promise<LockState | null> {
    const states = await this.#read(`inspect "${name}"`, (backend) => backend.inspect(name));
    return mergeStates(name, states, this.#quorum);
  }

  async list(pattern: string): Promise<string[]> {
    const lists = await this.#read(`list "${pattern}"`, (backend) => backend.list(pattern));
    return [...new Set(lists.flat())].sort();
  }

  async forceRelease(name: string): Promise<number> {
    const seed = numberSeed();
    const counts = await this.#read(`forceRelease "${name}"`, (_, client) =>
      this.#parts.ops.forceRelease(client, seed, name),
    );
    return Math.max(0, ...counts);
  }

  async #sweep(name: string): Promise<number | null> {
    const next = await this.#read(`sweep "${name}"`, (backend) => backend.events?.sweep(name) ?? Promise.resolve(null));
    const known = next.filter((ms): ms is number => ms !== null);
    return known.length === 0 ? null : Math.min(...known);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watches?.close();
    await Promise.allSettled([...this.#pending]);
    this.#parts.wakes.close();
    await Promise.all(this.#nodes.map((node) => node.close()));
  }

  /** Every node at once; each answer within `timeout` ms, judged when it arrives. */
  #all<T>(run: (backend: Backend, client: Redis) => Promise<T>, timeout: number): Promise<NodeReply<T>[]> {
    return Promise.all(this.#nodes.map((node) => node.call(run, timeout, () => performance.now())));
  }

  /** A read over every node; needs a majority's answers. */
  async #read<T>(what: string, run: (backend: Backend, client: Redis) => Promise<T>): Promise<T[]> {
    this.#assertOpen();
    const replies = await this.#all(run, this.#parts.timeout);
    const values = counted(replies);
    if (values.length < this.#quorum) throw this.#error('read', what, replies, () => 'granted');
    return values;
  }

  /** Partial grants go back at once, on every node, counting or not (not awaited). */
  #releaseEverywhere(name: string, token: string): void {
    this.#partialSince.delete(token);
    const seed = numberSeed();
    this.#background(
      Promise.all(
        this.#nodes.map((node) => node.bestEffort((client) => this.#parts.ops.release(client, seed, name, token))),
      ),
    );
  }

  /** Work the caller does not wait for; close() waits for it. */
  #background(work: Promise<unknown>): void {
    const tracked = work.catch(() => {});
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  #error<T>(
    operation: QuorumError['operation'],
    what: string,
    replies: readonly NodeReply<T>[],
    decide?: (v: T) => 'granted' | 'held-by-another' | 'not-held',
  ): QuorumError {
    const judge = decide ?? ((value: T) => ((value as AcquireReply)[0]?.granted ? 'granted' : 'held-by-another'));
    return new QuorumError(operation, what, this.#quorum, outcomesOf(this.#nodes, replies, judge));
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError();
  }
}

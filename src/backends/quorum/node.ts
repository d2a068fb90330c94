/**
 * One master of a quorum: its ioredis connection, the single-Redis backend that runs the lock
 * scripts on it, and whether its answers count (the restart guard, guard.ts).
 */
import { Redis } from 'ioredis';
import type { Backend, BackendContext } from '../../backend.js';
import { HoldfastError, type NodeOutcomeKind } from '../../errors.js';
import { createRedisBackend } from '../redis/index.js';
import { type QuorumScripts, runQuorumScript } from './scripts.js';

/** What a node answered, or why it did not count. */
export type NodeReply<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly outcome: NodeOutcomeKind; readonly detail: string };

export interface NodeStatus {
  readonly node: string;
  /** counting: its answers count; recovering: restarted, inside its guard; refused: never counts. */
  readonly state: 'counting' | 'recovering' | 'unreachable' | 'refused';
  readonly detail?: string;
}

/** What the quorum learns from a node each time its connection (re)opens. */
export interface Probe {
  readonly runId: string;
  readonly role: string;
  /** An epoch hash exists (of this run or an earlier one). */
  readonly epochKnown: boolean;
}

export interface NodeHooks {
  /** The epoch mode for a node that just probed: 'open' while the set is fresh, else 'guard'. */
  modeFor(node: QuorumNode, probe: Probe): Promise<'open' | 'guard'>;
  /** Why this node must never count (a replica, another node's twin), or null. */
  refusal(node: QuorumNode, probe: Probe): string | null;
}

export interface NodeSettings {
  readonly timeout: number;
  readonly guardMs: number;
  readonly restartGuard: boolean;
  readonly epochKey: string;
  /** A node whose maxmemory-policy may evict keys is refused unless this is set (the Redis backend checks). */
  readonly allowEviction: boolean;
}

/** Clock-rate allowance for the guard's end, as for leases (1 %). */
const GUARD_DRIFT = 0.01;

export class QuorumNode {
  readonly index: number;
  readonly address: string;
  readonly client: Redis;
  /** Settles once the node's first connection was verified or refused (never rejects). */
  readonly started: Promise<void>;
  readonly #settings: NodeSettings;
  readonly #context: BackendContext;
  readonly #scripts: QuorumScripts;
  readonly #hooks: NodeHooks;
  #backend: Backend | null = null;
  #runId: string | null = null;
  #verified = false;
  /** Local monotonic ms from which this node's answers count. */
  #countsFrom = Number.POSITIVE_INFINITY;
  #refused: string | null = null;
  #lastError = 'not connected yet';
  #closed = false;
  #markStarted!: () => void;

  constructor(
    index: number,
    url: string,
    address: string,
    parts: { settings: NodeSettings; context: BackendContext; scripts: QuorumScripts; hooks: NodeHooks },
  ) {
    this.index = index;
    this.address = address;
    this.#settings = parts.settings;
    this.#context = parts.context;
    this.#scripts = parts.scripts;
    this.#hooks = parts.hooks;
    this.started = new Promise((resolve) => {
      this.#markStarted = resolve;
    });
    // No offline queue: a request to a node that is down fails at once (counted as
    // unreachable) instead of waiting for a reconnect that may come after the lease's validity.
    this.client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: parts.settings.timeout,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    });
    this.client.on('error', (error: Error) => {
      this.#lastError = error.message;
    });
    // A restart always drops the connection: until the new one is verified nothing counts.
    this.client.on('close', () => {
      this.#verified = false;
    });
    this.client.on('ready', () => void this.#verify());
  }

  get runId(): string | null {
    return this.#runId;
  }

  /** Whether its lock backend is open (verified at least once). */
  get open(): boolean {
    return this.#backend !== null;
  }

  get refused(): string | null {
    return this.#refused;
  }

  /** What a node is to the quorum right now, for diagnostics (and tests). */
  status(now: number): NodeStatus {
    const reply = this.#notCounting(now);
    if (reply === null || reply.ok) return { node: this.address, state: 'counting' };
    const state = this.#refused !== null ? 'refused' : reply.outcome === 'recovering' ? 'recovering' : 'unreachable';
    return { node: this.address, state, detail: reply.detail };
  }

  /** Whether an answer arriving now counts toward a quorum. */
  counts(now: number): boolean {
    return this.#verified && this.#refused === null && now >= this.#countsFrom;
  }

  /** Why an answer arriving now does not count, or null when it does. */
  #notCounting(now: number): NodeReply<never> | null {
    if (this.#refused !== null) return { ok: false, outcome: 'script-error', detail: this.#refused };
    if (!this.#verified) return { ok: false, outcome: 'unreachable', detail: this.#lastError };
    if (now < this.#countsFrom) {
      const wait = Math.ceil(this.#countsFrom - now);
      return { ok: false, outcome: 'recovering', detail: `restarted; counts again in ${wait} ms` };
    }
    return null;
  }

  /**
   * Runs one request on this node within `timeout` ms and says how it went. `keep` (default
   * false): a reply from a node that does not count is still returned as a value (releases and
   * extends on a recovering node do no harm and keep it in step).
   */
  async call<T>(
    run: (backend: Backend, client: Redis) => Promise<T>,
    timeout: number,
    now: () => number,
  ): Promise<NodeReply<T>> {
    const backend = this.#backend;
    if (backend === null || this.#closed) {
      return { ok: false, outcome: 'unreachable', detail: this.#refused ?? this.#lastError };
    }
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<NodeReply<T>>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, outcome: 'timed-out', detail: `no answer within ${timeout} ms` }),
        timeout,
      );
      timer.unref();
    });
    const answered = run(backend, this.client).then(
      (value): NodeReply<T> => this.#notCounting(now()) ?? { ok: true, value },
      (error: unknown): NodeReply<T> => this.#failure(error),
    );
    try {
      return await Promise.race([answered, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A request that also runs on a node that does not count (a release, a leave). */
  async bestEffort<T>(run: (client: Redis) => Promise<T>): Promise<T | undefined> {
    if (this.#backend === null || this.#closed) return undefined;
    return run(this.client).catch(() => undefined);
  }

  /** Publishes a message on this node, not waiting for it (a grant's event: events.ts). */
  publish(channel: string, message: string): void {
    if (this.#backend === null || this.#closed) return;
    this.client.publish(channel, message).catch(() => {});
  }

  #failure(error: unknown): NodeReply<never> {
    const message = error instanceof Error ? error.message : String(error);
    if (/timed out|timeout/i.test(message)) return { ok: false, outcome: 'timed-out', detail: message };
    const cause = error instanceof HoldfastError ? error.cause : error;
    const isReply = cause instanceof Error && cause.name === 'ReplyError';
    if (isReply && !/LOADING|BUSY|READONLY|MASTERDOWN/.test(message)) {
      return { ok: false, outcome: 'script-error', detail: message };
    }
    return { ok: false, outcome: 'unreachable', detail: message };
  }

  /** On every (re)connect: what is this server, is it allowed, and when does it count. */
  async #verify(): Promise<void> {
    try {
      // A closed node starts no commands (an in-flight verify stops at its next step).
      if (this.#closed) return;
      const probe = await this.#probe();
      this.#runId = probe.runId;
      const refusal = this.#hooks.refusal(this, probe);
      if (refusal !== null) {
        this.#refused = refusal;
        return;
      }
      const mode = this.#settings.restartGuard ? await this.#hooks.modeFor(this, probe) : 'open';
      const reply = (await runQuorumScript(
        this.client,
        this.#scripts.epoch,
        [this.#settings.epochKey],
        [probe.runId, this.#settings.guardMs, mode],
      )) as [number, number];
      const remaining = Number(reply[1]);
      // Counted from after the reply, plus the clock-rate allowance: never before the node's end.
      this.#countsFrom = remaining > 0 ? performance.now() + remaining * (1 + GUARD_DRIFT) + 2 : 0;
      if (this.#closed) return;
      if (this.#backend === null) {
        const backend = await createRedisBackend({ client: this.client }, this.#context, {
          commandTimeout: this.#settings.timeout,
          allowEviction: this.#settings.allowEviction,
        });
        // closed while connecting: its subscriber connection would keep the process alive; and
        // a second 'ready' during this one's await may have opened one already (keep one)
        if (this.#closed || this.#backend !== null) await backend.close();
        else this.#backend = backend;
      }
      if (this.client.status === 'ready') this.#verified = true;
    } catch (error) {
      this.#lastError = error instanceof Error ? error.message : String(error);
    } finally {
      this.#markStarted();
    }
  }

  async #probe(): Promise<Probe> {
    const [info, epoch] = await Promise.all([
      this.client.info('server').then(async (server) => server + (await this.client.info('replication'))),
      runQuorumScript(this.client, this.#scripts.epoch, [this.#settings.epochKey], ['', 0, 'read']),
    ]);
    const field = (name: string): string => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
    return { runId: field('run_id'), role: field('role'), epochKnown: (epoch as number[])[0] === 1 };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#backend?.close().catch(() => {});
    this.client.disconnect();
  }
}

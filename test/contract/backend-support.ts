/** What the backend conformance suites share: the engine a test runs on, requests, wake-ups. */
import { randomBytes } from 'node:crypto';
import { after, afterEach, beforeEach } from 'node:test';
import type {
  AcquireRequest,
  Backend,
  BackendContext,
  HandoffGrant,
  LockKind,
  RateCapability,
} from '../../src/backend.js';
import { withTimeout } from '../helpers/wait.js';

/**
 * One shared state and the backends (clients) opened on it. A fresh engine per test: its own
 * store, server or key prefix, so tests never meet.
 */
export interface BackendEngine {
  readonly label: string;
  /** true when time passes only through `advance` (a fake clock). */
  readonly fakeTime: boolean;
  /** A new backend on the shared state, as connect() would open it with this context. */
  open(context: Omit<BackendContext, 'prefix'>): Promise<Backend>;
  /** Lets `ms` pass: at once on a fake clock, by waiting on a real one. */
  advance(ms: number): Promise<void>;
  /**
   * Loses every lock's data as a crash without persistence would (a restarted server, a flushed
   * Redis); absent when the engine cannot simulate that. Backends opened before may need to
   * reconnect on their own.
   */
  readonly loseData?: () => Promise<void>;
  /** Closes what the engine started (backends opened by the suite are closed by the suite). */
  close(): Promise<void>;
}

export type BackendEngineFactory = () => Promise<BackendEngine>;

/** A wake-up as the backend reported it to its client. */
export interface Wake {
  readonly token: string;
  readonly grant: HandoffGrant | null;
  readonly retryAfter: number | undefined;
}

/** A backend opened by the suite, with the wake-ups it delivered. */
export interface OpenedBackend {
  readonly backend: Backend;
  /** The client id the backend was opened with. */
  readonly clientId: string;
  readonly wakes: readonly Wake[];
  /** The first wake-up for `token` (already delivered, or the next one), within EVENT ms. */
  /** The first wake-up for `token` (that `matches`, when given). */
  wake(token: string, matches?: (wake: Wake) => boolean): Promise<Wake>;
}

/** A lease that never runs out during a test. */
export const LONG = 60_000;
/**
 * A lease or waiter entry that runs out during a test (real engines wait it out); long enough
 * that a check right after creating it still sees it on a loaded machine.
 */
export const SHORT = 1000;
/** Just past SHORT, with room for the backend to notice. */
export const PAST_SHORT = SHORT + 200;
/** Real ms to wait for something that should happen "now" (a wake-up, an event). */
export const EVENT = 5000;

export function newToken(): string {
  return randomBytes(16).toString('hex');
}

/** A fresh name per call, so a test's names never collide. */
export function newName(what = 'n'): string {
  return `${what}-${randomBytes(4).toString('hex')}`;
}

/**
 * An acquire request: a pure try for one permit of a mutex for LONG, unless told otherwise. The
 * claim window is min(ttl, waiterTtl), as the client computes it, unless given.
 */
export function request(name: string, token: string, over: Partial<AcquireRequest> = {}): AcquireRequest {
  const base = {
    name,
    kind: 'mutex' as const,
    token,
    permits: 1,
    limit: 1,
    ttl: LONG,
    enqueue: false,
    waiterTtl: 6000,
  };
  const merged = { ...base, owner: '', ...over };
  return { ...merged, claimTtl: over.claimTtl ?? Math.min(merged.ttl, merged.waiterTtl) };
}

export interface EngineHandle {
  readonly engine: BackendEngine;
  /** A new backend on the engine, closed after the test. */
  open(): Promise<OpenedBackend>;
  /** `count` backends, typed for destructuring. */
  openMany(count: 2): Promise<[OpenedBackend, OpenedBackend]>;
  openMany(count: 3): Promise<[OpenedBackend, OpenedBackend, OpenedBackend]>;
}

/** A fresh engine for every test of the enclosing describe, and everything closed after it. */
export function useEngine(factory: BackendEngineFactory): () => EngineHandle {
  let current: { engine: BackendEngine; opened: Backend[] } | undefined;
  const cleanup = async (): Promise<void> => {
    if (!current) return;
    const { engine, opened } = current;
    current = undefined;
    await Promise.allSettled(opened.map((backend) => backend.close()));
    await engine.close();
  };
  beforeEach(async () => {
    // node:test runs no afterEach for a test that skipped itself (t.skip()): its backends are
    // closed here, or after the last test, instead of being left open (reconnecting forever).
    await cleanup();
    current = { engine: await factory(), opened: [] };
  });
  afterEach(cleanup);
  after(cleanup);
  const open = async (): Promise<OpenedBackend> => {
    if (!current) throw new Error('no engine outside a test');
    const wakes: Wake[] = [];
    const waiting = new Set<() => void>();
    const clientId = `c${randomBytes(6).toString('hex')}`;
    const backend = await current.engine.open({
      clientId,
      onWake: (token, grant, retryAfter) => {
        wakes.push({ token, grant, retryAfter });
        for (const notify of waiting) notify();
      },
      onResync: () => {},
    });
    current.opened.push(backend);
    const wake = (token: string, matches: (wake: Wake) => boolean = () => true): Promise<Wake> =>
      withTimeout(
        new Promise<Wake>((resolve) => {
          const check = (): void => {
            const found = wakes.find((w) => w.token === token && matches(w));
            if (!found) return;
            waiting.delete(check);
            resolve(found);
          };
          waiting.add(check);
          check();
        }),
        EVENT,
        `a wake-up for token ${token.slice(0, 8)}`,
      );
    return { backend, clientId, wakes, wake };
  };
  const handle = {
    get engine(): BackendEngine {
      if (!current) throw new Error('no engine outside a test');
      return current.engine;
    },
    open,
    async openMany(count: number) {
      const made: OpenedBackend[] = [];
      for (let i = 0; i < count; i++) made.push(await open());
      return made;
    },
  } as EngineHandle;
  return () => handle;
}

/** The tokens' fences must strictly increase in the order given. */
export function increasing(fences: readonly bigint[]): boolean {
  return fences.every((fence, i) => i === 0 || fence > (fences[i - 1] as bigint));
}

/** The backend's rates, which the caller has checked are declared. */
export function rates(backend: Backend): RateCapability {
  if (backend.rates === undefined) throw new Error(`the ${backend.label} backend declares no rates`);
  return backend.rates;
}

/** Skips the running test when `backend` does not declare lock kind `kind` (and says so). */
export function lacksKind(t: { skip(message: string): void }, backend: Backend, kind: LockKind): boolean {
  if (backend.capabilities.locks.includes(kind)) return false;
  t.skip(`the ${backend.label} backend holds no ${kind}`);
  return true;
}

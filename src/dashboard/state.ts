/**
 * What the dashboard knows, kept current for every open page: one `hf.watch('*')` for the
 * event stream, an `inspect` of a name whenever an event touches it, and a full `list` +
 * `inspect` every few seconds (which also catches changes whose events were missed). Pages get
 * a snapshot on connect, then every change as one message.
 */
import type { Holdfast } from '../client.js';
import type { LockEvent } from '../engine/watch.js';
import { type EventView, eventView, type LockView, lockView, type RateView } from './views.js';

/** One message to the pages, sent as one server-sent event. */
export type Message =
  | { readonly type: 'locks'; readonly locks: readonly LockView[] }
  | { readonly type: 'lock'; readonly lock: LockView }
  | { readonly type: 'gone'; readonly name: string }
  | { readonly type: 'rates'; readonly rates: readonly RateView[] }
  | { readonly type: 'events'; readonly events: readonly EventView[] }
  | { readonly type: 'event'; readonly event: EventView }
  | { readonly type: 'status'; readonly ok: boolean; readonly message: string }
  | { readonly type: 'notice'; readonly message: string };

export type Listener = (message: Message) => void;

const REFRESH_MS = 2000;
const RETRY_MS = 1000;
/** More names than this are not inspected on each refresh (the page says how many). */
const MAX_LOCKS = 500;
const KEPT_EVENTS = 200;
const RATE_BUCKET_MS = 5000;
const RATE_BUCKETS = 12;

interface RateTrack {
  waiting: number;
  lastAt: number;
  /** Wall-clock ms of each refusal in the last minute. */
  refusedAt: number[];
}

export class DashboardState {
  readonly #hf: Holdfast;
  readonly #listeners = new Set<Listener>();
  readonly #locks = new Map<string, LockView>();
  readonly #rates = new Map<string, RateTrack>();
  readonly #events: EventView[] = [];
  readonly #abort = new AbortController();
  /** Names with an inspect in flight, and those to inspect again once it is back. */
  readonly #inspecting = new Set<string>();
  readonly #again = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #status: Message = { type: 'status', ok: true, message: 'connected' };
  /** The status while all is well, when that is not simply 'connected'. */
  #quiet = 'connected';

  constructor(hf: Holdfast) {
    this.#hf = hf;
  }

  /** Starts following the backend; resolves once the event stream is live and the first refresh is in. */
  async start(): Promise<void> {
    // A backend without events (a quorum, say) is still shown: by the refresh alone.
    if (this.#hf.capabilities.events) await this.#watch();
    else this.#quiet = 'this backend publishes no events: refreshed every 2 s';
    await this.#refresh();
  }

  stop(): void {
    this.#abort.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Adds a page: it gets the current state at once, then every change. Returns its removal. */
  subscribe(listener: Listener): () => void {
    listener({ type: 'locks', locks: [...this.#locks.values()] });
    listener({ type: 'rates', rates: this.rates() });
    listener({ type: 'events', events: [...this.#events] });
    listener(this.#status);
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The current state, for `GET /api/state`. */
  snapshot(): { locks: LockView[]; rates: RateView[]; events: EventView[] } {
    return { locks: [...this.#locks.values()], rates: this.rates(), events: [...this.#events] };
  }

  lock(name: string): LockView | undefined {
    return this.#locks.get(name);
  }

  notice(message: string): void {
    this.#broadcast({ type: 'notice', message });
  }

  /** Inspects `name` now, and tells the pages what changed. */
  async update(name: string): Promise<void> {
    if (this.#inspecting.has(name)) {
      this.#again.add(name);
      return;
    }
    this.#inspecting.add(name);
    try {
      const state = await this.#hf.inspect(name);
      this.#apply(name, state === null ? null : lockView(state));
    } catch (error) {
      this.#setStatus(false, error);
    } finally {
      this.#inspecting.delete(name);
      if (this.#again.delete(name)) void this.update(name);
    }
  }

  rates(): RateView[] {
    const now = Date.now();
    return [...this.#rates.entries()].map(([name, track]) => {
      track.refusedAt = track.refusedAt.filter((at) => at > now - RATE_BUCKET_MS * RATE_BUCKETS);
      const refusals = new Array<number>(RATE_BUCKETS).fill(0);
      for (const at of track.refusedAt) {
        const age = Math.floor((now - at) / RATE_BUCKET_MS);
        const bucket = RATE_BUCKETS - 1 - Math.min(RATE_BUCKETS - 1, Math.max(0, age));
        refusals[bucket] = (refusals[bucket] ?? 0) + 1;
      }
      return { name, waiting: track.waiting, refusals, lastAt: track.lastAt };
    });
  }

  /** Subscribes to every event; resolves once the subscription is live. */
  async #watch(): Promise<void> {
    const stream = this.#hf.watch('*', { signal: this.#abort.signal });
    await stream.ready;
    void this.#follow(stream);
  }

  /** Reads events until the stream ends; unless stopped, subscribes again a second later. */
  async #follow(stream: AsyncIterable<LockEvent>): Promise<void> {
    try {
      for await (const event of stream) this.#onEvent(event);
    } catch (error) {
      this.#setStatus(false, error);
    }
    this.#resubscribe();
  }

  #resubscribe(): void {
    if (this.#abort.signal.aborted) return;
    setTimeout(() => {
      if (this.#abort.signal.aborted) return;
      this.#watch().catch((error: unknown) => {
        this.#setStatus(false, error);
        this.#resubscribe();
      });
    }, RETRY_MS).unref();
  }

  #onEvent(event: LockEvent): void {
    const view = eventView(event);
    this.#events.push(view);
    if (this.#events.length > KEPT_EVENTS) this.#events.shift();
    this.#broadcast({ type: 'event', event: view });
    if (event.kind === 'rate-limiter') this.#onRateEvent(event);
    else void this.update(event.name);
  }

  #onRateEvent(event: LockEvent): void {
    let track = this.#rates.get(event.name);
    if (!track) {
      track = { waiting: 0, lastAt: event.at, refusedAt: [] };
      this.#rates.set(event.name, track);
    }
    track.lastAt = event.at;
    if (event.type === 'waiting') track.waiting++;
    else if (event.type === 'left' && track.waiting > 0) track.waiting--;
    else if (event.type === 'rate-limited') track.refusedAt.push(event.at);
    this.#broadcast({ type: 'rates', rates: this.rates() });
  }

  /** Every name again: catches what events did not say (a dashboard started after a grant). */
  async #refresh(): Promise<void> {
    try {
      const names = (await this.#hf.list('*')).sort().slice(0, MAX_LOCKS);
      const states = await Promise.all(names.map((name) => this.#hf.inspect(name)));
      const seen = new Set<string>();
      states.forEach((state, i) => {
        const name = names[i] as string;
        if (state !== null) seen.add(name);
        this.#apply(name, state === null ? null : lockView(state), false);
      });
      for (const name of [...this.#locks.keys()]) if (!seen.has(name)) this.#apply(name, null, false);
      this.#broadcast({ type: 'locks', locks: [...this.#locks.values()] });
      this.#broadcast({ type: 'rates', rates: this.rates() });
      this.#setStatus(true, null);
    } catch (error) {
      this.#setStatus(false, error);
    }
    if (!this.#abort.signal.aborted) this.#timer = setTimeout(() => void this.#refresh(), REFRESH_MS).unref();
  }

  #apply(name: string, view: LockView | null, tell = true): void {
    if (view === null) {
      if (this.#locks.delete(name) && tell) this.#broadcast({ type: 'gone', name });
      return;
    }
    this.#locks.set(name, view);
    if (tell) this.#broadcast({ type: 'lock', lock: view });
  }

  #setStatus(ok: boolean, error: unknown): void {
    const message = ok ? this.#quiet : `backend error: ${error instanceof Error ? error.message : String(error)}`;
    if (this.#status.type === 'status' && this.#status.ok === ok && this.#status.message === message) return;
    this.#status = { type: 'status', ok, message };
    this.#broadcast(this.#status);
  }

  #broadcast(message: Message): void {
    for (const listener of this.#listeners) listener(message);
  }
}

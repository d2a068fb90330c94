import type { Clock, Timer } from '../util/clock.js';

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Lets pending promise chains run to completion before time moves on. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A manual clock for the memory backend: `await clock.advance(ms)` moves time forward, running
 * due timers in order and letting promises settle between them, so TTL tests take no real time
 * and cannot flake. `connect({ memory: new MemoryStore({ clock }) })`.
 */
export class FakeClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #wallStart: number;
  #timers: Scheduled[] = [];

  constructor(options: { wallMicros?: number } = {}) {
    this.#wallStart = options.wallMicros ?? Date.now() * 1000;
  }

  now(): number {
    return this.#now;
  }

  wallMicros(): number {
    return this.#wallStart + Math.floor(this.#now * 1000);
  }

  setTimer(fn: () => void, ms: number): Timer {
    const entry: Scheduled = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (let next = this.#next(target); next; next = this.#next(target)) {
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /** How many timers are waiting (cancelled ones excluded). */
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  #next(limit: number): Scheduled | undefined {
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    let best: Scheduled | undefined;
    for (const t of this.#timers) {
      if (t.at <= limit && (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq))) best = t;
    }
    if (best) best.cancelled = true;
    return best;
  }
}

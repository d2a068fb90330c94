import type { BackendEvent } from '../../backend.js';
import { globToRegExp } from '../../util/glob.js';

interface Subscription {
  readonly matcher: RegExp;
  readonly listener: (event: BackendEvent) => void;
}

/** Fans events out to the watches of every client of one store, like a pub/sub channel would. */
export class EventHub {
  readonly #subscriptions = new Set<Subscription>();

  subscribe(pattern: string, listener: (event: BackendEvent) => void): () => void {
    const subscription = { matcher: globToRegExp(pattern), listener };
    this.#subscriptions.add(subscription);
    return () => {
      this.#subscriptions.delete(subscription);
    };
  }

  /** true while some watch is subscribed: without one, an event need not even be built. */
  get listening(): boolean {
    return this.#subscriptions.size > 0;
  }

  emit(event: BackendEvent): void {
    for (const subscription of this.#subscriptions) {
      if (!subscription.matcher.test(event.name)) continue;
      // Delivered after the operation that caused it has completed, as over pub/sub.
      queueMicrotask(() => subscription.listener(event));
    }
  }
}

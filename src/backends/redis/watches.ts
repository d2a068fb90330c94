/**
 * Event watches on the client's one subscriber connection: one PSUBSCRIBE per distinct
 * pattern, however many watches share it, and a PUNSUBSCRIBE when the last of them ends.
 * After a reconnect the patterns are subscribed again (resubscribeOnReady, connection.ts);
 * events published during the outage are gone, as on any pub/sub channel.
 */
import type { BackendEvent } from '../../backend.js';
import { asBackendError } from '../../errors.js';
import type { Beacons } from './beacons.js';
import type { RedisConnection } from './cluster.js';
import { resubscribeOnReady, withTimeout } from './connection.js';
import { eventPattern } from './keys.js';
import { parseEvent } from './replies.js';

type Listener = (event: BackendEvent) => void;

/** One watch; an object of its own, so the same function can watch twice. */
interface Slot {
  readonly listener: Listener;
}

interface Subscription {
  readonly slots: Set<Slot>;
  /** Settles once the server confirmed the PSUBSCRIBE (or it failed). */
  readonly ready: Promise<void>;
}

export class Watches {
  readonly #subscriber: RedisConnection;
  /** On a cluster: what makes every master publish events while a watch is on (beacons.ts). */
  readonly #beacons: Beacons | null;
  readonly #prefix: string;
  readonly #timeout: number;
  /** By the full PSUBSCRIBE pattern, which is what each message names. */
  readonly #subscriptions = new Map<string, Subscription>();
  #closed = false;

  constructor(subscriber: RedisConnection, prefix: string, timeout: number, beacons: Beacons | null = null) {
    this.#subscriber = subscriber;
    this.#beacons = beacons;
    this.#prefix = prefix;
    this.#timeout = timeout;
    subscriber.on('pmessage', (pattern: string, _channel: string, message: string) => {
      this.#deliver(pattern, message);
    });
    resubscribeOnReady(subscriber, () => (this.#closed ? [] : [...this.#subscriptions.keys()]));
  }

  /** Resolves once events about `pattern` are delivered to `listener`. */
  async add(pattern: string, listener: Listener): Promise<() => Promise<void>> {
    const what = `watch "${pattern}"`;
    const full = eventPattern(this.#prefix, pattern);
    const subscription = this.#subscriptions.get(full) ?? this.#subscribe(full, what);
    const slot: Slot = { listener };
    subscription.slots.add(slot);
    try {
      await subscription.ready;
    } catch (error) {
      subscription.slots.delete(slot);
      throw asBackendError(error, what);
    }
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      await this.#remove(full, subscription, slot);
    };
  }

  /** The connection is closing: every watch ends, and unsubscribing has nothing left to do. */
  close(): void {
    this.#closed = true;
    this.#subscriptions.clear();
    this.#beacons?.close();
  }

  #subscribe(full: string, what: string): Subscription {
    const subscribed = withTimeout(this.#subscriber.psubscribe(full), this.#timeout, what);
    const ready = Promise.all([subscribed, this.#beacons?.start()]).then(
      () => {},
      (error: unknown) => {
        // The PSUBSCRIBE may still succeed later: undo it now, in order on the same
        // connection, before anyone can subscribe to this pattern again.
        this.#subscriber.punsubscribe(full).catch(() => {});
        if (this.#subscriptions.get(full) === subscription) this.#subscriptions.delete(full);
        throw error;
      },
    );
    const subscription: Subscription = { slots: new Set(), ready };
    this.#subscriptions.set(full, subscription);
    return subscription;
  }

  async #remove(full: string, subscription: Subscription, slot: Slot): Promise<void> {
    subscription.slots.delete(slot);
    if (this.#closed || subscription.slots.size > 0 || this.#subscriptions.get(full) !== subscription) return;
    this.#subscriptions.delete(full);
    if (this.#subscriptions.size === 0) this.#beacons?.stop();
    try {
      await withTimeout(this.#subscriber.punsubscribe(full), this.#timeout, `unwatch "${full}"`);
    } catch (error) {
      throw asBackendError(error, 'ending a watch');
    }
  }

  #deliver(pattern: string, message: string): void {
    const subscription = this.#subscriptions.get(pattern);
    if (!subscription) return;
    const event = parseEvent(message);
    if (event === null) {
      process.emitWarning(`holdfast: ignored a malformed event on a watch: ${message.slice(0, 200)}`);
      return;
    }
    for (const { listener } of [...subscription.slots]) {
      try {
        listener(event);
      } catch (error) {
        // A throw here would surface inside ioredis's reply parser and break the connection.
        const detail = error instanceof Error ? error.message : String(error);
        process.emitWarning(`holdfast: a watch listener threw: ${detail}`);
      }
    }
  }
}

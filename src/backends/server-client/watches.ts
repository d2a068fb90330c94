/**
 * Event watches on the client's one connection: one HOLDFAST.WATCH per distinct pattern,
 * however many watches share it, and HOLDFAST.UNWATCH when the last of them ends. The server
 * pushes `["event", pattern, json]`; after a reconnect the handshake watches every pattern
 * again (events during the outage are gone, as on any pub/sub channel).
 */
import type { BackendEvent } from '../../backend.js';
import { asBackendError } from '../../errors.js';
import { parseEvent } from './replies.js';
import type { RespValue } from './resp.js';

type Listener = (event: BackendEvent) => void;

/** One watch; an object of its own, so the same function can watch twice. */
interface Slot {
  readonly listener: Listener;
}

/** Sends one command and rejects with a HoldfastError (an error reply included). */
export type Call = (args: readonly string[], what: string) => Promise<RespValue>;

export class Watches {
  readonly #call: Call;
  readonly #patterns = new Map<string, Set<Slot>>();

  constructor(call: Call) {
    this.#call = call;
  }

  /** The patterns to watch again on a new connection. */
  get patterns(): string[] {
    return [...this.#patterns.keys()];
  }

  async add(pattern: string, listener: Listener): Promise<() => Promise<void>> {
    const what = `watch "${pattern}"`;
    let slots = this.#patterns.get(pattern);
    if (!slots) {
      slots = new Set();
      this.#patterns.set(pattern, slots);
    }
    const slot: Slot = { listener };
    slots.add(slot);
    try {
      // Later watches of a pattern send it again: WATCH is idempotent, and the reply then
      // confirms the subscription for them too, in order on the one connection.
      await this.#call(['HOLDFAST.WATCH', pattern], what);
    } catch (error) {
      this.#remove(pattern, slot);
      throw asBackendError(error, what);
    }
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      if (this.#remove(pattern, slot)) await this.#unwatch(pattern);
    };
  }

  /** An `event` push: delivered to every watch of its pattern. */
  deliver(pattern: RespValue, text: RespValue): void {
    const slots = typeof pattern === 'string' ? this.#patterns.get(pattern) : undefined;
    if (!slots) return;
    const event = parseEvent(text);
    if (event === null) {
      process.emitWarning(`holdfast: ignored a malformed event push: ${String(text).slice(0, 200)}`);
      return;
    }
    for (const { listener } of [...slots]) {
      try {
        listener(event);
      } catch (error) {
        // A throw here would surface inside the connection's reply loop.
        const detail = error instanceof Error ? error.message : String(error);
        process.emitWarning(`holdfast: a watch listener threw: ${detail}`);
      }
    }
  }

  /** Removes a slot; true when it was the pattern's last. */
  #remove(pattern: string, slot: Slot): boolean {
    const slots = this.#patterns.get(pattern);
    if (!slots?.delete(slot) || slots.size > 0) return false;
    this.#patterns.delete(pattern);
    return true;
  }

  async #unwatch(pattern: string): Promise<void> {
    try {
      await this.#call(['HOLDFAST.UNWATCH', pattern], `unwatch "${pattern}"`);
    } catch (error) {
      throw asBackendError(error, 'ending a watch');
    }
  }
}

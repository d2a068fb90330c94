/**
 * Wake-ups from the nodes, turned into one per waiter. A release is sent to every node at
 * once, and each node hands its permits to its own queue head and wakes it; the waiter asks
 * again (all nodes, same token: where it was handed the lock the node re-arms it and returns
 * the fence) once a majority of nodes woke it, or a short settle time after the first one, so
 * it does not ask while the other nodes are still handing off and give up a place it has.
 */
import type { BackendContext, HandoffGrant } from '../../backend.js';

/** How long a first wake-up waits for the other nodes' before the waiter asks anyway. */
export const SETTLE_MS = 30;

export class Wakes {
  readonly #context: BackendContext;
  readonly #quorum: number;
  readonly #pending = new Map<string, { nodes: Set<number>; timer: NodeJS.Timeout }>();

  constructor(context: BackendContext, quorum: number) {
    this.#context = context;
    this.#quorum = quorum;
  }

  /** A wake-up from node `index` (the Redis backend's WakeListener, per node). */
  fromNode(index: number, token: string, _grant: HandoffGrant | null, retryAfter?: number): void {
    if (retryAfter !== undefined) {
      // This node's head is told when its turn can come: ask then (the engine keeps the earliest).
      this.#context.onWake(token, null, retryAfter);
      return;
    }
    const pending = this.#pending.get(token);
    if (pending === undefined) {
      const timer = setTimeout(() => this.#fire(token), SETTLE_MS);
      timer.unref();
      this.#pending.set(token, { nodes: new Set([index]), timer });
    } else {
      pending.nodes.add(index);
    }
    if ((this.#pending.get(token)?.nodes.size ?? 0) >= this.#quorum) this.#fire(token);
  }

  #fire(token: string): void {
    const pending = this.#pending.get(token);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.#pending.delete(token);
    this.#context.onWake(token, null);
  }

  close(): void {
    for (const { timer } of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }
}

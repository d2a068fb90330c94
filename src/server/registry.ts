/**
 * Where a forwarded wake-up goes: connections by the client id they claimed. A client that
 * reconnects claims its id again (HOLDFAST.CLIENTID), so the waiters it queued before the outage
 * are woken on the new connection; while an old connection with the same id lingers, both get
 * the wake-up, and the one that does not know the token ignores it.
 */
import type { HandoffGrant } from '../backend.js';

export interface WakeTarget {
  wake(token: string, grant: HandoffGrant | null): void;
}

export class ClientRegistry {
  readonly #clients = new Map<string, Set<WakeTarget>>();

  add(clientId: string, target: WakeTarget): void {
    let targets = this.#clients.get(clientId);
    if (!targets) {
      targets = new Set();
      this.#clients.set(clientId, targets);
    }
    targets.add(target);
  }

  remove(clientId: string, target: WakeTarget): void {
    const targets = this.#clients.get(clientId);
    if (!targets?.delete(target) || targets.size > 0) return;
    this.#clients.delete(clientId);
  }

  deliver(clientId: string, token: string, grant: HandoffGrant | null): void {
    for (const target of this.#clients.get(clientId) ?? []) target.wake(token, grant);
  }
}

/**
 * `waitReplicas: n`: a grant is handed back only once n replicas acknowledged it (Redis `WAIT`),
 * so a failover to one of them keeps it. When they do not, the grant is released and the
 * acquire rejects with a ReplicationError: nothing is held that the caller does not know of.
 *
 * WAIT counts the replicas that acknowledged the replication offset of *this client's own*
 * latest write. A hand-off grant is not such a write: the releaser's script wrote it, on the
 * releaser's connection. So the client first writes on its own connection — it confirms the
 * grant with an extend that re-arms the full TTL (what its first renewal would do anyway) — and
 * then waits, on that connection (a grant of our own acquire is confirmed the same way: a
 * reconnect in between would leave WAIT counting a connection that wrote nothing; see
 * src/backends/redis/replicas.ts). The argument: Redis runs scripts one at a time and
 * replicates their effects in the order they ran, in one stream with one offset. Our extend
 * found our token holding, so it ran after the script that granted it, and its writes stand
 * later in the stream; a replica that acknowledged our offset has the grant too. The extend does
 * write: it sets the holder's expiry to the server's now + ttl (µs precision), later than the
 * claim window the grant armed, so the score changes and the write is replicated.
 *
 * WAIT is not consensus: a replica that acknowledged may still not be the one promoted, and an
 * acknowledged write can be lost to a badly timed second failure. Fences and `lease.signal`
 * remain what protects the resource; `waitReplicas` makes losing a grant in a failover rare.
 */
import { requireCapability } from '../capabilities.js';
import { LeaseLostError, ReplicationError } from '../errors.js';
import type { ClientCore } from './core.js';
import type { Lease } from './lease.js';

/** The number of replicas a grant of this spec waits for (the primitive's, else the client's). */
export function replicasFor(core: ClientCore, waitReplicas: number | null): number {
  return waitReplicas ?? core.waitReplicas;
}

/** Throws UnsupportedError at once when replicas are asked for on a backend that has none. */
export function requireReplicas(core: ClientCore, waitReplicas: number | null, forWhat: string): void {
  if (replicasFor(core, waitReplicas) > 0) requireCapability(core.backend, 'replicas', forWhat);
}

/**
 * Resolves with `lease` once `count` replicas acknowledged its grant; otherwise releases it and
 * rejects (ReplicationError, or the error of a failed round trip). The backend re-arms the lease
 * first (a write of our own, after the grant) and waits for that write: see above.
 */
export async function replicated(core: ClientCore, lease: Lease, count: number): Promise<Lease> {
  const replicas = requireCapability(core.backend, 'replicas', `waitReplicas on "${lease.name}"`);
  try {
    const requestedAt = core.clock.now();
    const { held, acknowledged } = await replicas.confirm(
      { name: lease.name, token: lease.token, ttl: lease.ttl },
      count,
    );
    if (!held) throw new LeaseLostError(lease.name, 'the backend no longer held it when it was confirmed');
    lease.confirm(requestedAt);
    if (acknowledged < count) {
      throw new ReplicationError('too-few', `the grant of "${lease.name}"`, count, acknowledged);
    }
    return lease;
  } catch (error) {
    // Whatever happened, the caller gets no lease: leave nothing held behind it.
    await lease.release().catch(() => {});
    throw error;
  }
}

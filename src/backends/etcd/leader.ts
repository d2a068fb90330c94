/**
 * Leader affinity: while the client knows which member leads, its writes, keep-alives, reads
 * at a revision and waiters' watches go to that member, over a client of its own. A write sent
 * to a follower is forwarded to the leader and answered only once the follower has applied it; a
 * keep-alive on a follower is forwarded to the leader; a watch on a follower hears a commit one
 * raft message after the leader does. Each of those hops is a process wake-up more on the path
 * of every hand-off (measured: `npm run bench -- etcd` prints the floor both ways).
 *
 * Which member leads is asked of every member (Maintenance Status names the member that answers
 * and the leader it follows); the one that says it leads, in the highest term, is taken. The
 * choice is checked again every CHECK_MS (one Status call, to it) and dropped at once when a
 * call to it fails or its watch stream breaks; until a leader is found again, calls go to any
 * member, as they would without affinity. Nothing here decides safety: any member gives the
 * same answers (writes are linearizable wherever they are sent), only later.
 */
import type { Etcd3 } from 'etcd3';

/** How often the chosen leader is asked whether it still leads, ms. */
const CHECK_MS = 1000;
/** How long a Status call may take before its member counts as unreachable, ms. */
const STATUS_TIMEOUT = 1000;

export class Leader {
  readonly #members: readonly Etcd3[];
  readonly #recoverable: (error: unknown) => boolean;
  #current: Etcd3 | null = null;
  #onLost: () => void = () => {};
  #finding: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  /**
   * `members`: one client per member, each on that member alone. `recoverable`: etcd3's test
   * for an error that means the member could not be reached (it retries those elsewhere).
   */
  constructor(members: readonly Etcd3[], recoverable: (error: unknown) => boolean) {
    this.#members = members;
    this.#recoverable = recoverable;
  }

  /** The leader's client, or null while none is known. */
  get client(): Etcd3 | null {
    return this.#current;
  }

  /** Resolves once the first search for the leader is over (found or not); never rejects. */
  start(): Promise<void> {
    return this.#find();
  }

  /** `listener` runs each time the leader is dropped (see `lost`). */
  onLost(listener: () => void): void {
    this.#onLost = listener;
  }

  /**
   * A call to `client` failed, or it no longer says it leads: it may not lead, or not be there,
   * any more. Looks again, and tells the listener: a watch on a member cut off from the others
   * stays open and silent (only a member that is gone breaks its watches' stream).
   */
  lost(client: Etcd3): void {
    if (this.#current !== client) return;
    this.#current = null;
    void this.#find();
    this.#onLost();
  }

  /**
   * Whether a call that failed on the leader with `error` goes again to any member: when the
   * member could not be reached (as etcd3 itself retries on another member), or its client's
   * circuit breaker (etcd3's, per host) refuses calls to it for now. Not when the cluster
   * answered, nor after a deadline: the call may still take effect, and its time is spent.
   */
  unreachable(error: unknown): boolean {
    if (typeof error !== 'object' || error === null) return false;
    return this.#recoverable(error) || 'isBrokenCircuitError' in error;
  }

  close(): void {
    this.#closed = true;
    this.#current = null;
    if (this.#timer) clearTimeout(this.#timer);
    for (const member of this.#members) member.close();
  }

  #find(): Promise<void> {
    this.#finding ??= this.#search().finally(() => {
      this.#finding = null;
      this.#schedule();
    });
    return this.#finding;
  }

  async #search(): Promise<void> {
    const answers = await Promise.all(this.#members.map(async (member) => ({ member, leads: await leads(member) })));
    let best: { member: Etcd3; term: bigint } | null = null;
    for (const { member, leads: term } of answers) {
      // An old leader cut off from the others says it leads until it notices: the newer term wins.
      if (term !== null && (best === null || term > best.term)) best = { member, term };
    }
    if (!this.#closed) this.#current = best?.member ?? null;
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const current = this.#current;
      if (current === null) {
        void this.#find();
        return;
      }
      void leads(current).then((term) => {
        if (term === null) this.lost(current);
        else this.#schedule();
      });
    }, CHECK_MS);
    this.#timer.unref();
  }
}

/** The member's raft term when it says it leads itself; null when it follows or cannot say. */
async function leads(member: Etcd3): Promise<bigint | null> {
  try {
    const status = await member.maintenance.status({ deadline: Date.now() + STATUS_TIMEOUT });
    const self = status.header.member_id;
    return status.leader !== '0' && status.leader === self ? BigInt(status.raftTerm) : null;
  } catch {
    return null;
  }
}

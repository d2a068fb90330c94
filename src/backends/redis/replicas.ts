/**
 * Replica acknowledgement for `waitReplicas`: re-arm the grants (extend, a write of this
 * client's own), then `WAIT numreplicas timeout` on the same connection.
 *
 * WAIT counts the replicas that acknowledged the replication offset of *this connection's*
 * latest write, so three things matter:
 * - the grant may not be our write (a hand-off is written by the releaser's script): the extend
 *   is, and it stands later in the one replication stream than the grant it found holding;
 * - the extend and the WAIT must run on one connection: ioredis resends an unanswered command
 *   on a new connection after a reconnect, and a WAIT there counts a connection that wrote
 *   nothing, so it answers at once. `epoch()` counts (re)connections; when it moved between
 *   sending the extends and the WAIT's answer, nothing is vouched for (too few, 0);
 * - WAIT blocks the connection (every command behind it waits) until it answers: calls are
 *   coalesced, one batch in flight and the rest waiting for it, so a missing replica costs this
 *   client's commands at most one bound at a time, however many grants wait.
 */
import type { ExtendRequest } from '../../backend.js';
import { ReplicationError } from '../../errors.js';

export interface Confirmation {
  /** Whether the lease still held when it was re-armed. */
  readonly held: boolean;
  /** Replicas that acknowledged the re-arming write (and so the grant before it). */
  readonly acknowledged: number;
}

/** The backend's part: pipelined extends, and WAIT, on its command connection. */
export interface ReplicaConnection {
  extendMany(requests: readonly ExtendRequest[]): Promise<boolean[]>;
  /** WAIT count bound; rejects with the server's refusal as it came. */
  wait(count: number, bound: number): Promise<number>;
  /** Incremented on every (re)connection of the command connection. */
  epoch(): number;
}

const RECONNECTED = 'the connection was re-established while waiting, so no acknowledgement counts';

interface Pending {
  readonly request: ExtendRequest;
  readonly count: number;
  readonly resolve: (confirmation: Confirmation) => void;
  readonly reject: (error: unknown) => void;
}

export class ReplicaConfirmations {
  readonly #connection: ReplicaConnection;
  /** ms WAIT may block: well inside the command timeout, so its answer is never lost to it. */
  readonly #bound: number;
  #waiting: Pending[] = [];
  #busy = false;

  constructor(connection: ReplicaConnection, commandTimeout: number) {
    this.#connection = connection;
    this.#bound = Math.max(1, Math.floor(commandTimeout / 2));
  }

  /** Re-arms `request` and resolves once `count` replicas acknowledged it, or the bound passed. */
  confirm(request: ExtendRequest, count: number): Promise<Confirmation> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ request, count, resolve, reject });
      if (!this.#busy && this.#waiting.length === 1) process.nextTick(this.#flush);
    });
  }

  /** `WAIT 0`: answers at once where the server counts acknowledgements, refuses where not. */
  async probe(): Promise<void> {
    await this.#connection.wait(0, this.#bound).catch((error: unknown) => {
      throw refusalOf(error, 0);
    });
  }

  readonly #flush = (): void => {
    if (this.#busy || this.#waiting.length === 0) return;
    const batch = this.#waiting;
    this.#waiting = [];
    this.#busy = true;
    // #send settles every caller itself and never rejects
    void this.#send(batch).then(() => {
      this.#busy = false;
      this.#flush();
    });
  };

  async #send(batch: readonly Pending[]): Promise<void> {
    const count = Math.max(...batch.map((p) => p.count));
    const connection = this.#connection;
    try {
      const epoch = connection.epoch();
      const held = await connection.extendMany(batch.map((p) => p.request));
      const acknowledged = await connection.wait(count, this.#bound).catch((error: unknown) => {
        throw refusalOf(error, count);
      });
      const reconnected = connection.epoch() !== epoch;
      batch.forEach((p, i) => {
        if (!reconnected) p.resolve({ held: held[i] === true, acknowledged });
        else p.reject(new ReplicationError('too-few', `the grant of "${p.request.name}" (${RECONNECTED})`, p.count, 0));
      });
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}

/**
 * The server's refusal of WAIT as a ReplicationError; anything else (a lost connection) is left
 * as it is. Redis answers "ERR unknown command 'WAIT'" where it was renamed or disabled, and
 * "ERR WAIT cannot be used with replica instances" on a replica.
 */
export function refusalOf(error: unknown, count: number): unknown {
  const reply = replyErrorIn(error);
  if (reply === null) return error;
  return new ReplicationError('refused', `waiting for ${count} replicas (${reply.message})`, count, null, {
    cause: error,
  });
}

function replyErrorIn(error: unknown): Error | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e.name === 'ReplyError' && /\bWAIT\b|unknown command/i.test(e.message)) return e;
  }
  return null;
}

/**
 * Coalesces the acquire and release calls one client issues in the same tick of its event loop
 * into one script call (scripts/batch.lua): 64 tasks each releasing and acquiring again cost
 * Redis a few EVALSHAs instead of 64, and this process few commands to encode and replies to
 * parse. A lone call goes out as its own script, exactly as without coalescing.
 *
 * A call made while none of this coalescer's calls is in flight and none waits goes out at once,
 * inside the caller's own call: a release that hands the name to a waiter, or one client's next
 * acquire in sequence, does not wait for the rest of the turn (measured on a hand-off after an
 * idle spell: ~50 µs sooner on the wire, the code between the call and the end of the turn
 * being cold). The calls after it wait for `process.nextTick`, as do all calls made while
 * others are in flight (64 tasks in parallel rarely find none): it runs once the promise
 * continuations of the current turn are done (the replies of one socket read resolve in one
 * turn, and what they set off is issued in it), before any I/O, so nothing waits for a later
 * turn of the loop. A batch that reaches MAX_BATCH operations goes out at once instead: Redis
 * runs it while this process is still busy issuing the rest of the turn's calls, so the two
 * work side by side instead of each waiting for the other (64 tasks become two groups of 32
 * that take turns). Calls keep their order on the connection: one goes out at once only when
 * none waits, and any other command the backend sends flushes the waiting calls first
 * (`flush()`).
 *
 * On Redis Cluster a script may touch the keys of one slot only (CROSSSLOT otherwise), so the
 * waiting calls are grouped by the slot of their keys (`groupOf`) and each group is sent as its
 * own batch, in issue order within the group. Per slot rather than per node: which node serves
 * a slot can change between two flushes (a failover, a migration), a slot cannot, so a batch is
 * never split by a reshard; and ioredis sends the batches of one node on one connection anyway.
 */
import type { ScriptArg, ScriptName } from './scripts.js';

/**
 * One operation: which script, its four keys and its arguments; `what` names it in errors.
 * `wakeFirst`: a release on a name that had waiters, whose wake-up should reach Redis's
 * output before this client's reply (backend.ts, connection.ts `behindPing`).
 */
export interface Operation {
  readonly script: 'acquire' | 'release';
  readonly keys: readonly string[];
  readonly args: readonly ScriptArg[];
  readonly what: string;
  readonly wakeFirst?: boolean;
}

/** Sends one script call; rejects with a HoldfastError saying `what` failed. */
export type Send = (
  what: string,
  script: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
  wakeFirst: boolean,
) => Promise<unknown>;

interface Waiting {
  readonly operation: Operation;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: unknown) => void;
}

const CODE: Record<Operation['script'], string> = { acquire: 'a', release: 'r' };

/**
 * Most operations in one script call (32 acquires take Redis well under a ms), and the size at
 * which a batch is sent without waiting for the end of the turn. With 64 tasks in parallel
 * (npm run bench), the Redis CPU per acquire+release is the same as with 64 (each EVALSHA's
 * own cost is ~1 % of a batch), and the batches of 32 overlap this process's work.
 */
const MAX_BATCH = 32;

export class Coalescer {
  readonly #send: Send;
  /** Turns an operation's own error text (from batch.lua) into the error its caller gets. */
  readonly #failed: (message: string, what: string) => Error;
  /**
   * Turns the whole batch's failure (an error naming the batch `batchWhat`) into the error the
   * caller of one of its operations (`what`) gets.
   */
  readonly #failedBatch: (error: unknown, batchWhat: string, what: string) => Error;
  /** The group (cluster slot) an operation must be batched in; null: all in one (one Redis). */
  readonly #groupOf: ((operation: Operation) => number) | null;
  #waiting: Waiting[] = [];
  /** Script calls sent and not yet answered. */
  #inFlight = 0;
  readonly #answered = (): void => {
    this.#inFlight -= 1;
  };

  constructor(
    send: Send,
    failed: (message: string, what: string) => Error,
    failedBatch: (error: unknown, batchWhat: string, what: string) => Error,
    groupOf: ((operation: Operation) => number) | null = null,
  ) {
    this.#send = send;
    this.#failed = failed;
    this.#failedBatch = failedBatch;
    this.#groupOf = groupOf;
  }

  /** Resolves with the operation's reply, as its own script would return it. */
  run(operation: Operation): Promise<unknown> {
    if (this.#inFlight === 0 && this.#waiting.length === 0) {
      const { script, keys, args, what, wakeFirst = false } = operation;
      return this.#sent(this.#send(what, script, keys, args, wakeFirst));
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ operation, resolve, reject });
      if (this.#waiting.length === 1) process.nextTick(this.flush);
      else if (this.#waiting.length >= MAX_BATCH) this.flush();
    });
  }

  /**
   * Sends what waits now: alone as its own script, or together in batches of at most
   * MAX_BATCH operations (one script runs alone on Redis: a bounded batch keeps that short).
   */
  readonly flush = (): void => {
    const waiting = this.#waiting;
    if (waiting.length === 0) return;
    this.#waiting = [];
    for (const group of this.#grouped(waiting)) {
      for (let start = 0; start < group.length; start += MAX_BATCH) {
        this.#sendBatch(group.slice(start, start + MAX_BATCH));
      }
    }
  };

  #grouped(waiting: Waiting[]): Iterable<Waiting[]> {
    const groupOf = this.#groupOf;
    if (groupOf === null) return [waiting];
    const groups = new Map<number, Waiting[]>();
    for (const entry of waiting) {
      const group = groupOf(entry.operation);
      const members = groups.get(group);
      if (members) members.push(entry);
      else groups.set(group, [entry]);
    }
    return groups.values();
  }

  /** Counts `call` in flight until it is answered; returns it. */
  #sent(call: Promise<unknown>): Promise<unknown> {
    this.#inFlight += 1;
    call.then(this.#answered, this.#answered);
    return call;
  }

  #sendBatch(batch: readonly Waiting[]): void {
    const [first] = batch;
    if (batch.length === 1 && first) {
      const { script, keys, args, what, wakeFirst = false } = first.operation;
      this.#sent(this.#send(what, script, keys, args, wakeFirst)).then(first.resolve, first.reject);
      return;
    }
    const keys: string[] = [];
    const args: ScriptArg[] = [];
    let wakeFirst = false;
    for (const { operation } of batch) {
      keys.push(...operation.keys);
      args.push(CODE[operation.script], operation.args.length, ...operation.args);
      if (operation.wakeFirst === true) wakeFirst = true;
    }
    const what = `${batch.length} acquire/release operations`;
    this.#sent(this.#send(what, 'batch', keys, args, wakeFirst)).then(
      (replies) => this.#settle(batch, replies),
      (error: unknown) => {
        // Each caller hears of its own operation, as if it had been sent alone.
        for (const waiting of batch) waiting.reject(this.#failedBatch(error, what, waiting.operation.what));
      },
    );
  }

  /** batch.lua's flat reply: per operation, its status, a count (-1: one value) and the values. */
  #settle(batch: readonly Waiting[], replies: unknown): void {
    const flat: readonly unknown[] = Array.isArray(replies) ? replies : [];
    let at = 0;
    for (const waiting of batch) {
      const status = flat[at];
      const count = flat[at + 1];
      const end = at + 2 + (count === -1 ? 1 : typeof count === 'number' ? count : 0);
      if ((status !== 0 && status !== 1) || typeof count !== 'number' || count < -1 || end > flat.length) {
        waiting.reject(this.#failed('the batch script returned no reply for it', waiting.operation.what));
        at = flat.length;
        continue;
      }
      const reply = count === -1 ? flat[at + 2] : flat.slice(at + 2, end);
      if (status === 1) waiting.resolve(reply);
      else waiting.reject(this.#failed(String(reply), waiting.operation.what));
      at = end;
    }
  }
}

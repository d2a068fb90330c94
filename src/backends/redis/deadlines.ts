/**
 * The time limit of the commands one backend sends on its command connection, kept with one
 * timer for all of them instead of one per command.
 *
 * ioredis's `commandTimeout` (and a `setTimeout` per call, on a user's client) arms and clears
 * a timer for every command: ~4 µs of client CPU and ~1.4 µs of latency per acquire+release,
 * measured. Every command here gets the same limit, so their deadlines fall in the order they
 * were sent: a FIFO of deadlines needs one timer, armed for the oldest pending one. Replies
 * mostly arrive in order (one connection), so a settled command usually leaves from the head at
 * once; one that settles behind a pending one is skipped when it reaches the head.
 */

/** A command that got no reply in time; commandFailed (connection.ts) says it with the operation. */
export class CommandTimedOut extends Error {
  readonly ms: number;

  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'CommandTimedOut';
    this.ms = ms;
  }
}

/** Turns a command's failure (its own error, or a CommandTimedOut) into the error its caller gets. */
export type Failed = (error: unknown, what: string) => Error;

interface Pending {
  /** performance.now() after which the command is given up on. */
  readonly at: number;
  readonly reject: (error: unknown) => void;
  /** With `what`: how a failure reaches the caller; null passes it on as it is. */
  readonly failed: Failed | null;
  readonly what: string;
  settled: boolean;
  /** The command sent after this one (a list, not an array: no copying, no resizing). */
  next: Pending | null;
}

export class Deadlines {
  readonly #ms: number;
  /** The oldest command not known to be settled, and the newest; null when none. */
  #head: Pending | null = null;
  #tail: Pending | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #expire = (): void => this.#onTimer();

  constructor(ms: number) {
    this.#ms = ms;
  }

  /**
   * `sent`, or a CommandTimedOut once `ms` pass without it settling. Like a per-command timer,
   * the limit counts from now, so a command that waits in ioredis's offline queue (the server
   * down) fails in time too; what it does when it is sent later is up to the caller.
   *
   * `failed` (with `what`, naming the operation) turns either failure into the caller's error
   * here, in the one promise the caller gets: the Redis backend's script calls need no async
   * layer of their own to do it, which cost a promise and a microtask per call. Both are passed
   * on as they are, not as a closure, so a call allocates nothing for them.
   */
  bound<T>(sent: Promise<T>, failed: Failed | null = null, what = ''): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { at: performance.now() + this.#ms, reject, failed, what, settled: false, next: null };
      if (this.#tail === null) this.#head = pending;
      else this.#tail.next = pending;
      this.#tail = pending;
      if (this.#timer === null) this.#arm(this.#ms);
      sent.then(
        (value) => {
          pending.settled = true;
          resolve(value);
          this.#trim();
        },
        (error: unknown) => {
          pending.settled = true;
          reject(failed === null ? error : failed(error, what));
          this.#trim();
        },
      );
    });
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#expire, ms);
    this.#timer.unref();
  }

  /** Drops the settled commands at the head. */
  #trim(): void {
    let head = this.#head;
    while (head?.settled) head = head.next;
    this.#head = head;
    if (head === null) this.#tail = null;
  }

  /** Rejects every command whose deadline passed, then waits for the next one's, if any. */
  #onTimer(): void {
    this.#timer = null;
    const now = performance.now();
    for (let head = this.#head; head !== null; head = head.next) {
      this.#head = head;
      if (head.settled) continue;
      if (head.at > now) {
        // never earlier than 1 ms: a timer cannot fire sooner, and a 0 would spin
        this.#arm(Math.max(1, Math.ceil(head.at - now)));
        return;
      }
      head.settled = true;
      const timedOut = new CommandTimedOut(this.#ms);
      head.reject(head.failed === null ? timedOut : head.failed(timedOut, head.what));
    }
    this.#head = null;
    this.#tail = null;
  }
}

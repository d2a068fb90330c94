/**
 * What the hand-off measure's two worker kinds share (handoff-worker.ts with a lock,
 * publish-worker.ts with bare pub/sub): the `acquired` answer and the waits it is taken from.
 */

export interface Acquired {
  /** sharedNow() ms when the waiter's acquire resolved, or null when the library gave up. */
  readonly t1: number | null;
  readonly error?: string;
}

/** The waits started by `wait key`, by key, each taken once by `acquired key`. */
export class Waits {
  readonly #waits = new Map<string, Promise<Acquired>>();

  start(key: string, acquired: Promise<Acquired>): void {
    this.#waits.set(key, acquired);
  }

  take(key: string): Promise<Acquired> {
    const result = this.#waits.get(key);
    if (result === undefined) throw new Error(`not waiting for ${key}`);
    this.#waits.delete(key);
    return result;
  }
}

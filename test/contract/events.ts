/**
 * A watch that records every event, so a contract test can wait for "the next `waiting` on this
 * name" without racing the stream, and look back at everything it saw.
 */
import type { Holdfast, LockEvent, LockEventType } from '../../src/index.js';
import { withTimeout } from '../helpers/wait.js';
import { EVENT } from './support.js';

export interface Recorder {
  /** Every event so far, in arrival order. */
  readonly all: readonly LockEvent[];
  /** The first event not yet taken of `type` (and `name`), waiting up to EVENT real ms for it. */
  next(type: LockEventType, name?: string): Promise<LockEvent>;
  /** Resolves once the stream has ended (its signal aborted, its client closed, …). */
  readonly ended: Promise<void>;
  close(): Promise<void>;
}

/** Watches `pattern` on `hf`; resolves once the subscription is active. */
export async function record(hf: Holdfast, pattern: string, signal?: AbortSignal): Promise<Recorder> {
  const stream = hf.watch(pattern, signal ? { signal } : undefined);
  await stream.ready;
  const all: LockEvent[] = [];
  const taken = new Set<LockEvent>();
  const notify = new Set<() => void>();
  let done = false;
  const ended = (async () => {
    try {
      for await (const event of stream) {
        all.push(event);
        for (const wake of [...notify]) wake();
      }
    } finally {
      done = true;
      for (const wake of [...notify]) wake();
    }
  })();

  const next = (type: LockEventType, name?: string): Promise<LockEvent> => {
    const what = `a "${type}" event${name === undefined ? '' : ` on "${name}"`}`;
    let check = (): void => {};
    const found = new Promise<LockEvent>((resolve, reject) => {
      check = (): void => {
        const event = all.find((e) => !taken.has(e) && e.type === type && (name === undefined || e.name === name));
        if (event) {
          notify.delete(check);
          taken.add(event);
          resolve(event);
        } else if (done) reject(new Error(`the stream ended before ${what}`));
      };
      notify.add(check);
      check();
    });
    // A timed-out wait must not take a later event from the next one.
    return withTimeout(found, EVENT, what)
      .catch((error: unknown) => {
        throw new Error(`${error instanceof Error ? error.message : String(error)}; saw ${summary(all)}`);
      })
      .finally(() => notify.delete(check));
  };

  return { all, next, ended, close: () => stream.close() };
}

/** `type name` of each event, for failure messages. */
export function summary(events: readonly LockEvent[]): string {
  return events.map((e) => `${e.type} ${e.name}`).join(', ') || 'nothing';
}

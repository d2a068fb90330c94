/**
 * What one test set up and must undo when it ends, whatever happened: holdfast clients (closed),
 * child processes (SIGKILLed, also after SIGSTOP), servers. Steps are undone in reverse order of
 * setting up, and one that fails does not stop the others.
 */
import { type ConnectOptions, connect, type Holdfast } from '../../src/index.js';
import { type Child, spawnChild } from './child.js';

export interface TestScope {
  /** Runs `step` when the test ends, before whatever was deferred earlier. */
  defer(step: () => Promise<unknown>): void;
  /** A holdfast client, closed when the test ends. */
  client(url: string, options?: ConnectOptions): Promise<Holdfast>;
  /** A child process, SIGKILLed when the test ends. */
  spawn(script: URL, args: readonly string[]): Promise<Child>;
}

export function testScope(t: { after: (fn: () => Promise<void>) => void }): TestScope {
  const undo: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const step of undo.reverse()) await step().catch(() => {});
  });
  return {
    defer(step) {
      undo.push(step);
    },
    async client(url, options = {}) {
      const hf = await connect(url, options);
      undo.push(() => hf.close());
      return hf;
    },
    async spawn(script, args) {
      const child = await spawnChild(script, args);
      undo.push(() => child.kill());
      return child;
    },
  };
}

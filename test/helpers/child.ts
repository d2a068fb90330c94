/**
 * Child processes for multi-process tests: a TypeScript script run by `node --import tsx`, talking
 * to the test over the IPC channel in plain JSON objects with a `type`. The parent side
 * (`spawnChild`) buffers every message so a test can wait for "the next `acquired`" without
 * racing the child; the child side (`report`, `nextMessage`) is a thin wrapper over
 * `process.send` that exits when the parent goes away.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './wait.js';

export interface Message {
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Child {
  readonly pid: number;
  /** The next message of `type` not yet taken (buffered if it came early); rejects on exit. */
  next<T extends Message = Message>(type: string, ms?: number): Promise<T>;
  send(message: Message): void;
  /** Sends a signal (e.g. SIGSTOP, SIGCONT) to the child. */
  signal(signal: NodeJS.Signals): void;
  readonly exited: Promise<Exit>;
  /** SIGKILL (also after SIGSTOP) and wait for the exit; a no-op once it has exited. */
  kill(): Promise<void>;
  /** The child's stderr so far (its last few KB), for failure messages. */
  stderr(): string;
}

const DEFAULT_WAIT = 15_000;

// Children still running, so that an interrupted test run leaves none behind.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `script` (a URL or path of a .ts file) with `args`; resolves once it has spawned. */
export async function spawnChild(script: URL | string, args: readonly string[] = []): Promise<Child> {
  const file = script instanceof URL ? fileURLToPath(script) : script;
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });

  const inbox: Message[] = [];
  const waiting = new Set<() => void>();
  child.on('message', (raw: unknown) => {
    inbox.push(raw as Message);
    for (const notify of [...waiting]) notify();
  });
  let gone: Exit | null = null;
  void exited.then((exit) => {
    gone = exit;
    for (const notify of [...waiting]) notify();
  });

  const take = <T extends Message>(type: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const index = inbox.findIndex((m) => m.type === type);
        const failed = inbox.find((m) => m.type === 'failed');
        if (index >= 0) {
          waiting.delete(check);
          resolve(inbox.splice(index, 1)[0] as T);
        } else if (failed !== undefined) {
          waiting.delete(check);
          reject(new Error(`child ${child.pid} failed before sending "${type}": ${String(failed.error)}`));
        } else if (gone !== null) {
          waiting.delete(check);
          const how = `code ${gone.code}, signal ${gone.signal}`;
          reject(new Error(`child ${child.pid} exited (${how}) before sending "${type}":\n${stderr}`));
        }
      };
      waiting.add(check);
      check();
    });

  return {
    pid: child.pid ?? -1,
    next: (type, ms = DEFAULT_WAIT) => withTimeout(take(type), ms, `"${type}" from child ${child.pid}`),
    send: (message) => {
      child.send(message);
    },
    signal: (signal) => {
      child.kill(signal);
    },
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stderr: () => stderr,
  };
}

/**
 * Starts `count` children of `script` at once and resolves with those that spawned: a caller
 * keeps them for its cleanup (kill) even when one failed to start, and asserts the count.
 */
export async function spawnChildren(script: URL | string, args: readonly string[], count: number): Promise<Child[]> {
  const spawned = await Promise.allSettled(Array.from({ length: count }, () => spawnChild(script, args)));
  return spawned.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
}

// ---- the child's side ----

/** Sends a message to the parent test; resolves once it has been handed to the channel. */
export function report(message: Message): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) return Promise.reject(new Error('not started by spawnChild: no IPC channel'));
  return new Promise((resolve, reject) => {
    send(message, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve()));
  });
}

const childInbox: Message[] = [];
const childWaiting = new Set<() => void>();
let listening = false;

function listen(): void {
  if (listening) return;
  listening = true;
  process.on('message', (raw: unknown) => {
    childInbox.push(raw as Message);
    for (const notify of [...childWaiting]) notify();
  });
  // An orphan would hold locks and connections until someone noticed.
  process.on('disconnect', () => process.exit(2));
}

/** The next message of `type` from the parent (buffered if it came early). */
export function nextMessage<T extends Message = Message>(type: string): Promise<T> {
  listen();
  return new Promise<T>((resolve) => {
    const check = (): void => {
      const index = childInbox.findIndex((m) => m.type === type);
      if (index < 0) return;
      childWaiting.delete(check);
      resolve(childInbox.splice(index, 1)[0] as T);
    };
    childWaiting.add(check);
    check();
  });
}

/**
 * Runs a child's main, then exits: 0 when it resolved, 1 after reporting `failed` (with the
 * error's stack) when it threw. Every `report` main awaited has reached the channel by then.
 */
export function runChild(main: () => Promise<void>): void {
  listen();
  main().then(
    () => process.exit(0),
    async (error: unknown) => {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.stderr.write(`${text}\n`);
      await report({ type: 'failed', error: text }).catch(() => {});
      process.exit(1);
    },
  );
}

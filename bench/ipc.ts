/**
 * Worker processes for the multi-process measures: `node --import tsx <file> <lib> <url>` with
 * an IPC channel. The parent calls commands (request/response by id); workers answer as soon as
 * the thing happened, so processes coordinate on events, not on sleeps.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type LibName, type Locker, openLocker } from './libs.js';
import { pinned } from './pin.js';

export interface Command {
  readonly cmd: string;
  readonly [field: string]: unknown;
}

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

export interface Worker {
  readonly pid: number;
  /** Sends a command; resolves with the worker's result, rejects with its error. */
  call<R>(command: Command): Promise<R>;
  /** Asks the worker to close its connections and exit; kills it if it does not in 5 s. */
  stop(): Promise<void>;
  /** A crash: SIGKILL by PID (nothing is closed or released), resolves once it has exited. */
  kill(): Promise<void>;
}

// Workers still running, so a failing run does not leave any behind.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `file` (relative to bench/) for `lib` (a LibName, or a RateLib for rate-worker.ts);
 * resolves once it is connected and ready. `cpu`: pin it there (default: inherit the bench's
 * pinning, see pin.ts).
 */
export async function startWorker(file: string, lib: string, url: string, cpu?: number): Promise<Worker> {
  const path = fileURLToPath(new URL(file, import.meta.url));
  const [command, args] = pinned(cpu, process.execPath, ['--import', 'tsx', path, lib, url]);
  const child = spawn(command, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  running.add(child);
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      for (const { reject } of pending.values()) reject(new Error(`${file} (${lib}) exited: ${code ?? signal}`));
      pending.clear();
      resolve();
    });
  });
  child.on('message', (message: Reply) => {
    const waiter = pending.get(message.id);
    if (waiter === undefined) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(new Error(`${file} (${lib}): ${message.error}`));
  });
  const call = <R>(command: Command): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...command, id });
    });
  await call({ cmd: 'ready' });
  return {
    pid: child.pid ?? -1,
    call,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await call({ cmd: 'exit' }).catch(() => {});
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGKILL');
      }
      await exited;
    },
  };
}

/** Starts `count` workers at once; if one fails, stops the others and rethrows. */
export async function startWorkers(
  file: string,
  lib: string,
  url: string,
  count: number,
  cpu?: number,
): Promise<Worker[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => startWorker(file, lib, url, cpu)));
  const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed === undefined) return workers;
  await stopAll(workers);
  throw failed.reason;
}

export async function stopAll(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.stop()));
}

export type Handler<S = Locker> = (command: Command, subject: S) => Promise<unknown>;

/** What a worker connects: a Locker (the default), or a RateLimiterAdapter in rate-worker.ts. */
export interface Subject {
  close(): Promise<void>;
}

/**
 * The worker side: connects the library named in argv, then answers commands with `handler`
 * (concurrently). 'ready' answers once connected; 'exit' closes the library and exits.
 */
export function serveWorker(handler: Handler): void {
  serveWith((lib, url) => openLocker(lib as LibName, url), handler);
}

/** serveWorker for a subject other than a Locker, opened by `open(lib, url)`. */
export function serveWith<S extends Subject>(
  open: (lib: string, url: string) => Promise<S>,
  handler: Handler<S>,
): void {
  const [lib, url] = process.argv.slice(2) as [string, string];
  const opened = open(lib, url);
  // If the parent dies, so does the worker.
  process.on('disconnect', () => process.exit(1));
  process.on('message', (message: Command & { id: number }) => {
    const answer = (reply: Omit<Reply, 'id'>, then: () => void = () => {}): void => {
      process.send?.({ ...reply, id: message.id }, then);
    };
    const run = async (): Promise<unknown> => {
      const subject = await opened;
      if (message.cmd === 'ready') return null;
      if (message.cmd === 'exit') {
        await subject.close();
        return null;
      }
      return handler(message, subject);
    };
    run().then(
      (result) => answer({ ok: true, result }, message.cmd === 'exit' ? () => process.exit(0) : undefined),
      (error: unknown) => answer({ ok: false, error: (error instanceof Error && error.stack) || String(error) }),
    );
  });
}

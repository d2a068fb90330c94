/**
 * The benchmark's own embedded holdfast server (holdfast://), the counterpart of redis.ts: a
 * separate Node process (server-process.ts) on a free loopback port, state in memory, stopped by
 * PID when the run ends (also on error or Ctrl-C).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pinned, SERVER_CPU } from './pin.js';
import type { ServerMessage, ServerRequest } from './server-process.js';

export interface HoldfastServer {
  readonly url: string;
  readonly pid: number;
  /** The server process's CPU seconds so far (user + system). */
  cpuSeconds(): Promise<number>;
  /** The server process's heap in use after a full GC, bytes. */
  heapBytes(): Promise<number>;
  /** SIGTERM (the server closes gracefully), then waits for the exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** tsx compiles the server's sources at start-up, which takes a while on a loaded machine. */
const READY_TIMEOUT = 30_000;
const CPU_TIMEOUT = 5000;

export async function startHoldfastServer(): Promise<HoldfastServer> {
  const path = fileURLToPath(new URL('./server-process.ts', import.meta.url));
  const [command, args] = pinned(SERVER_CPU, process.execPath, ['--expose-gc', '--import', 'tsx', path]);
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const done = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid ?? -1));
    child.once('error', reject);
  });
  // A last resort: if the bench dies without reaching stop(), the server does not outlive it.
  const onExit = (): void => {
    if (!done()) child.kill('SIGKILL');
  };
  process.on('exit', onExit);
  const stop = async (): Promise<void> => {
    process.off('exit', onExit);
    if (done()) return;
    process.kill(pid, 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const pending = new Map<number, { resolve: (value: number) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let onPort: (port: number) => void = () => {};
  child.on('message', (message: ServerMessage) => {
    if ('port' in message) onPort(message.port);
    else {
      pending.get(message.id)?.resolve(message.value);
      pending.delete(message.id);
    }
  });
  void exited.then(() => {
    for (const { reject } of pending.values()) reject(new Error('the holdfast server process exited'));
    pending.clear();
  });

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      onPort = resolve;
      void exited.then(() =>
        reject(new Error(`the holdfast server process exited during start-up (${child.exitCode ?? child.signalCode})`)),
      );
      setTimeout(
        () => reject(new Error(`the holdfast server did not report its port within ${READY_TIMEOUT} ms`)),
        READY_TIMEOUT,
      ).unref();
    });
  } catch (error) {
    await stop();
    throw error;
  }

  const ask = (cmd: ServerRequest['cmd']): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      if (done()) {
        reject(new Error('the holdfast server process is not running'));
        return;
      }
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`the holdfast server did not answer "${cmd}" within ${CPU_TIMEOUT} ms`));
      }, CPU_TIMEOUT);
      const settle =
        <T>(f: (value: T) => void) =>
        (value: T): void => {
          clearTimeout(timer);
          f(value);
        };
      pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      const request: ServerRequest = { id, cmd };
      child.send(request);
    });

  return {
    url: `holdfast://127.0.0.1:${port}`,
    pid,
    cpuSeconds: () => ask('cpu'),
    heapBytes: () => ask('heap'),
    stop,
  };
}

/**
 * Spawns a throw-away `redis-server` on a free loopback port: no persistence, so a restart
 * comes back empty (what fault tests need to simulate data loss). A missing binary is an error,
 * never a skip: the Redis suite must fail loudly where it cannot run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  /** PID of the current process (changes on restart). */
  readonly pid: number;
  /** SIGTERM, then waits for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILL (a crash), then waits for the process to exit. */
  kill(): Promise<void>;
  /** Starts again on the same port, with no data. Stops the current process first if running. */
  restart(): Promise<void>;
  /** Starts again (empty) only when the process has exited: a test that killed it cleans up. */
  restartIfDown(): Promise<void>;
}

const READY_TIMEOUT = 10_000;
const PING_INTERVAL = 25;

interface Running {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<void>;
  /** Last few KB of the server's output, for error messages. */
  output(): string;
}

// Processes still alive, so that a crashed or interrupted test run leaves none behind.
const alive = new Set<number>();
process.on('exit', () => {
  for (const pid of alive) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** `extraArgs` go on the redis-server command line, e.g. `['--replicaof', '127.0.0.1', '6390']`. */
export async function startRedis(extraArgs: readonly string[] = []): Promise<RedisProcess> {
  let lastError: unknown;
  // A port found free can be taken before redis binds it; try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return handle(port, await launch(port, extraArgs), extraArgs);
    } catch (error) {
      if (error instanceof MissingRedisError) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

function handle(port: number, first: Running, extraArgs: readonly string[]): RedisProcess {
  let current = first;
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const { child, exited } = current;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    child.ref(); // keep the event loop alive until the exit is seen
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return current.pid;
    },
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    async restart() {
      await halt('SIGKILL');
      current = await launch(port, extraArgs);
    },
    async restartIfDown() {
      const { child } = current;
      if (child.exitCode !== null || child.signalCode !== null) current = await launch(port, extraArgs);
    },
  };
}

class MissingRedisError extends Error {}

async function launch(port: number, extraArgs: readonly string[]): Promise<Running> {
  // A directory of its own, so nothing it writes (a replica's RDB from a full sync) lands in the
  // work tree; a `--dir` in extraArgs comes later and wins.
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  args.push('--daemonize', 'no', ...extraArgs);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const collect = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  // A server someone forgot to stop must not keep the test process alive; the exit hook kills it.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();

  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      if (child.pid !== undefined) alive.delete(child.pid);
      rmSync(dir, { recursive: true, force: true });
      resolve();
    });
  });
  const spawned = new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid ?? -1));
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        const hint = 'install it (e.g. `apt-get install -y redis-server`); Redis tests fail without it';
        reject(new MissingRedisError(`redis-server not found on PATH: ${hint}`));
      } else {
        reject(error);
      }
    });
  });
  const pid = await spawned;
  alive.add(pid);
  const running: Running = { child, pid, exited, output: () => tail };
  await waitReady(port, running);
  return running;
}

/** Resolves once the server answers PING; rejects if it exits or does not answer in time. */
async function waitReady(port: number, running: Running): Promise<void> {
  let gone = false;
  void running.exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + READY_TIMEOUT;
  while (!gone && Date.now() < deadline) {
    if (await ping(port)) return;
    await new Promise((resolve) => setTimeout(resolve, PING_INTERVAL));
  }
  if (!gone) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  const why = gone ? 'exited during start-up' : `did not answer PING within ${READY_TIMEOUT} ms`;
  throw new Error(`redis-server on port ${port} ${why}:\n${running.output()}`);
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      // "-LOADING" and the like mean: up, but not ready yet.
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** A port nothing listens on now, on 127.0.0.1 (for servers the tests start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * One sentinel process for test/helpers/redis-sentinel.ts: `redis-server <conf> --sentinel` on a
 * free loopback port, with a temp dir and a config file of its own (a sentinel rewrites it),
 * stopped by its PID. HOLDFAST_SENTINEL_LOG=1 streams its log to stderr (why a failover stalled).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './redis-server.js';
import { waitFor } from './wait.js';

export const MASTER_NAME = 'hf-primary';

/**
 * How long the primary may not answer before a sentinel calls it down. Long enough that a
 * loaded machine's stall is not taken for a crash (a spurious failover would lose writes in
 * the middle of an ordinary test), short enough for a kill test to finish in seconds.
 */
const DOWN_AFTER_MS = 4000;
/** The sentinels' bound on one failover (replicas reconfigured), and half their retry delay. */
const FAILOVER_TIMEOUT_MS = 5000;

export interface Sentinel {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

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

export async function withAdmin<T>(port: number, use: (admin: Redis) => Promise<T>): Promise<T> {
  const admin = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
  admin.on('error', () => {});
  try {
    return await use(admin);
  } finally {
    admin.disconnect();
  }
}

export async function launchSentinel(primaryPort: number): Promise<Sentinel> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await spawnSentinel(await freePort(), primaryPort);
    } catch (error) {
      lastError = error;
      if (error instanceof Error && error.message.includes('not found')) break;
    }
  }
  throw lastError;
}

async function spawnSentinel(port: number, primaryPort: number): Promise<Sentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  // A sentinel rewrites its config file (what it learns), so each has a writable one of its own.
  const lines = [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primaryPort} 2`,
    `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
    // Also how long a sentinel waits before trying an election again (twice this): short, so a
    // failover on a loaded machine does not stall 20 s after one split vote.
    `sentinel failover-timeout ${MASTER_NAME} ${FAILOVER_TIMEOUT_MS}`,
    `sentinel parallel-syncs ${MASTER_NAME} 2`,
  ];
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const collect = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-4000);
    if (process.env.HOLDFAST_SENTINEL_LOG) process.stderr.write(`[s${port}] ${chunk.toString()}`);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      if (child.pid !== undefined) alive.delete(child.pid);
      rmSync(dir, { recursive: true, force: true });
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error('redis-server not found on PATH: install redis-server') : error),
    );
  });
  if (child.pid !== undefined) alive.add(child.pid);
  const sentinel = { port, child, exited };
  try {
    await waitFor(
      () =>
        withAdmin(port, (admin) => admin.ping()).then(
          () => true,
          () => false,
        ),
      {
        timeout: 10_000,
        interval: 25,
        what: `the sentinel on port ${port}`,
      },
    );
  } catch (error) {
    await stopSentinel(sentinel);
    throw new Error(`${error instanceof Error ? error.message : String(error)}:\n${tail}`);
  }
  return sentinel;
}

export async function stopSentinel({ child, exited }: Sentinel): Promise<void> {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
    process.kill(child.pid, 'SIGTERM');
  child.ref();
  await exited;
}

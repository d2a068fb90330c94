/**
 * `holdfast dashboard` as users run it: the CLI in a process of its own, on a free port, its
 * address read from its banner; stopped by PID (SIGTERM, then SIGKILL), also if the test dies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './wait.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const alive = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

export interface DashboardProcess {
  readonly url: string;
  readonly pid: number;
  /** Everything it wrote on stderr so far (force-releases are logged there). */
  stderr(): string;
  stop(): Promise<void>;
}

export async function startDashboardCli(args: readonly string[]): Promise<DashboardProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'dashboard', ...args, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  alive.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      alive.delete(child);
      resolve();
    });
  });
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const found = /holdfast dashboard on (http:\/\/\S+)/.exec(stdout)?.[1];
        if (found) resolve(found);
      });
      void exited.then(() => reject(new Error(`the dashboard exited before listening:\n${stdout}\n${stderr}`)));
    }),
    60_000,
    'the dashboard to print its address',
  );
  return {
    url,
    pid: child.pid ?? -1,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The CLI as users run it: the BUILT binary, never the sources. The first use in a test process
 * runs the build `npm run build` runs (scripts/build.mjs) into a directory of the tests' own,
 * `.tmp/cli-package/node_modules/holdfast/dist` (beside a copy of package.json, which --version
 * reads), unless that build is newer than every source file; so a build in the work tree never
 * races the tests. A lock directory keeps test files running side by side from building at once.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sleep, withTimeout } from './wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = join(ROOT, '.tmp', 'cli-package', 'node_modules', 'holdfast');
export const CLI = join(PACKAGE, 'dist', 'cli', 'main.js');
const LOCK = join(ROOT, '.tmp', 'cli-package.lock');
const BUILD_TIMEOUT = 180_000;

let built: Promise<void> | undefined;

/** Builds dist/ once per test process, if any source is newer than the built CLI. */
export function buildCli(): Promise<void> {
  built ??= build();
  return built;
}

async function build(): Promise<void> {
  await mkdir(join(ROOT, '.tmp'), { recursive: true });
  const deadline = Date.now() + BUILD_TIMEOUT;
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch {
      // A lock left by a run that was killed mid-build is older than any build takes.
      const age = Date.now() - ((await stat(LOCK).catch(() => null))?.mtimeMs ?? Date.now());
      if (age > BUILD_TIMEOUT) await rmdir(LOCK).catch(() => {});
      if (Date.now() > deadline) throw new Error(`${LOCK} held for ${BUILD_TIMEOUT} ms; remove it if no build runs`);
      await sleep(200);
    }
  }
  try {
    if (await stale()) {
      const build = [join(ROOT, 'scripts', 'build.mjs'), join(PACKAGE, 'dist')];
      await promisify(execFile)(process.execPath, build, { cwd: ROOT, timeout: BUILD_TIMEOUT });
      await copyFile(join(ROOT, 'package.json'), join(PACKAGE, 'package.json'));
    }
  } finally {
    await rmdir(LOCK);
  }
}

async function stale(): Promise<boolean> {
  const cli = await stat(CLI).catch(() => null);
  if (cli === null) return true;
  const newest = Math.max(
    (await stat(join(ROOT, 'package.json'))).mtimeMs,
    await newestIn(join(ROOT, 'src')),
    await newestIn(join(ROOT, 'scripts')),
  );
  return newest > cli.mtimeMs;
}

async function newestIn(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? await newestIn(path) : (await stat(path)).mtimeMs);
  }
  return newest;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** Real ms before the run counts as hung; default 60 s (a loaded machine starts node slowly). */
  readonly timeout?: number;
}

/** A CLI process whose output is collected as it comes. */
export interface RunningCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout (or stderr) has a line matching `pattern`. */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', ms?: number): Promise<string>;
  readonly done: Promise<CliResult>;
}

/** Starts `holdfast ARGS…` (HOLDFAST_URL unset unless given, so the machine's own does not leak in). */
export function startCli(args: readonly string[], options: RunOptions = {}): RunningCli {
  const env: Record<string, string | undefined> = { ...process.env, HOLDFAST_URL: undefined, NO_COLOR: undefined };
  Object.assign(env, options.env ?? {});
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  for (const name of ['stdout', 'stderr'] as const) {
    child[name]?.on('data', (chunk: Buffer) => {
      out[name] += chunk.toString();
      for (const listener of listeners) listener();
    });
  }
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, ...out }));
  });
  const waitFor = (pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout', ms = 60_000): Promise<string> => {
    const found = new Promise<string>((resolve, reject) => {
      const check = (): void => {
        const line = out[stream].split('\n').find((l) => pattern.test(l));
        if (line !== undefined) {
          listeners.delete(check);
          resolve(line);
        }
      };
      listeners.add(check);
      check();
      done.then(() => {
        check();
        reject(new Error(`holdfast exited before printing ${pattern}; stdout: ${out.stdout} stderr: ${out.stderr}`));
      }, reject);
    });
    return withTimeout(found, ms, `${pattern} on the CLI's ${stream}`);
  };
  return { child, stdout: () => out.stdout, stderr: () => out.stderr, waitFor, done };
}

/** Runs `holdfast ARGS…` to the end. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const running = startCli(args, options);
  return withTimeout(running.done, options.timeout ?? 60_000, `holdfast ${args.join(' ')}`).finally(() => {
    if (running.child.exitCode === null) running.child.kill('SIGKILL');
  });
}

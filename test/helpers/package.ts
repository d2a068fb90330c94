/**
 * The package as a user installs it: built by scripts/build.mjs into
 * `<repo>/.tmp/package-XXXX/node_modules/holdfast/` with its package.json, README and LICENSE,
 * so `import`/`require('holdfast')` from that temp dir goes through its `exports` map, and
 * its dependencies (ioredis, croner) resolve from the repository's node_modules above it.
 * A temp dir of its own: never a race with a build in the work tree.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BuiltPackage {
  /** The temp dir: put consumer files here. */
  readonly dir: string;
  /** dir/node_modules/holdfast */
  readonly packageDir: string;
  remove(): Promise<void>;
}

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; never rejects for a non-zero exit (the caller asserts on it). */
export function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** "exit 1: <stderr>", for assertion messages. */
export function describeRun(result: Run): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

export async function buildPackage(): Promise<BuiltPackage> {
  await mkdir(join(ROOT, '.tmp'), { recursive: true });
  const dir = await mkdtemp(join(ROOT, '.tmp', 'package-'));
  const packageDir = join(dir, 'node_modules', 'holdfast');
  const built = await run(process.execPath, [join(ROOT, 'scripts/build.mjs'), join(packageDir, 'dist')], ROOT);
  if (built.code !== 0) throw new Error(`the build failed: ${describeRun(built)}`);
  for (const file of ['package.json', 'README.md', 'LICENSE']) await copyFile(join(ROOT, file), join(packageDir, file));
  // A package of its own: without it, 'holdfast' imported from dir would resolve to the
  // repository itself (a package may import itself by name), not to node_modules/holdfast.
  await writeFile(join(dir, 'package.json'), '{ "name": "holdfast-consumer", "private": true }\n');
  return { dir, packageDir, remove: () => rm(dir, { recursive: true, force: true }) };
}

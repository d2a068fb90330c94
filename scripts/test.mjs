#!/usr/bin/env node
/**
 * `npm test`: typecheck, lint (when biome.json exists), then every `test/**\/*.test.ts`
 * (including `*.slow.test.ts`) under `node --test`, output streamed, non-zero on any failure.
 *
 *   npm test                        everything
 *   npm test -- test/memory.test.ts only these test files, without typecheck and lint
 *
 * Node 20's `--test` takes no globs, so the files are enumerated here. Each Redis test file
 * starts its own redis-server on a free port, so files can run side by side; the concurrency
 * stays small because the Redis suites wait on short real TTLs.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const CONCURRENCY = process.env.HOLDFAST_TEST_CONCURRENCY ?? '2';

function run(what, command, args) {
  console.log(`\n> ${what}`);
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit' });
    child.once('error', (error) => {
      console.error(`${what}: ${error.message}`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function testFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...testFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) found.push(relative(root, path));
  }
  return found.sort();
}

async function main() {
  const selected = process.argv.slice(2);
  // The Redis backend reads its Lua from a module generated from the .lua files (gitignored).
  if ((await run('inline Lua scripts', process.execPath, [join(root, 'scripts/inline-lua.mjs')])) !== 0) return 1;
  if (selected.length === 0) {
    const tsc = require.resolve('typescript/bin/tsc');
    if ((await run('typecheck', process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit'])) !== 0) return 1;
    if (existsSync(join(root, 'biome.json')) || existsSync(join(root, 'biome.jsonc'))) {
      const biome = require.resolve('@biomejs/biome/bin/biome');
      if ((await run('lint', process.execPath, [biome, 'check', '.'])) !== 0) return 1;
    }
  }
  const files = selected.length > 0 ? selected : testFiles(join(root, 'test'));
  if (files.length === 0) {
    console.error('no test files found under test/');
    return 1;
  }
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${CONCURRENCY}`, ...files];
  return run(`node --test (${files.length} files)`, process.execPath, args);
}

process.exitCode = await main();

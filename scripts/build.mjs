#!/usr/bin/env node
/**
 * `npm run build`: the package as it ships, in dist/ (or in the directory given as the first
 * argument: the package tests build into a temp dir so they never race a build in the work tree).
 *
 *   dist/        ESM (the `import` condition) with .d.ts, and the `holdfast` CLI
 *   dist/cjs/    the same compiled a second time as CommonJS (the `require` condition), with
 *                its own .d.ts and a package.json saying {"type":"commonjs"} so Node and
 *                TypeScript read both the .js and the .d.ts there as CommonJS
 *
 * The Lua scripts are inlined into the JavaScript first (scripts/inline-lua.mjs), so nothing but
 * dist/ is needed at run time. No source maps: the package ships no sources to map to.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const out = resolve(root, process.argv[2] ?? 'dist');

function run(args) {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

const tsc = require.resolve('typescript/bin/tsc');
await run([join(root, 'scripts/inline-lua.mjs')]);
// Start clean, so a file deleted from src/ does not linger in dist/.
await rm(out, { recursive: true, force: true });
await Promise.all([
  run([tsc, '-p', 'tsconfig.build.json', '--outDir', out]),
  run([tsc, '-p', 'tsconfig.cjs.json', '--outDir', join(out, 'cjs')]),
]);
await mkdir(join(out, 'cjs'), { recursive: true });
await writeFile(join(out, 'cjs/package.json'), '{ "type": "commonjs" }\n');

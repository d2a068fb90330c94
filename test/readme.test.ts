/**
 * Every code block in README.md, as written, so the README cannot rot. One test per block,
 * named `README.md:LINE lang`; a failure names the README line it comes from.
 *
 *   ts / typescript   type-checked with the project's tsconfig (one program for all blocks, imports
 *                     of 'holdfast', 'holdfast/testing', 'holdfast/server' mapped to src/), then
 *                     run with tsx unless marked compile-only
 *   js / mjs          run as a plain .mjs by node itself (no TypeScript), against the built package
 *   sh / bash / shell run by `bash -e`; `holdfast` is the CLI from src/, `npx holdfast` too
 *   text, console, json, no language: output and layouts, not executed
 *   anything else     must carry a skip marker saying why (test/helpers/readme-blocks.ts)
 *
 * What blocks run against (spawned here, never a running service): HOLDFAST_URL and REDIS_URL
 * name a fresh redis-server; the embedded server's default ports in the text (127.0.0.1:7700,
 * -p 7700 for RESP, 127.0.0.1:7701 for HTTP) are replaced by a server started on free ports;
 * the etcd members of the examples (10.0.0.1–3:2379) by one etcd member started here when a
 * block that runs names them. Blocks run one after another, each within RUN_TIMEOUT.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startServer } from '../src/server/index.js';
import { type EtcdCluster, startEtcdCluster } from './helpers/etcd-cluster.js';
import { type BuiltPackage, buildPackage, ROOT } from './helpers/package.js';
import { type Block, readmeBlocks } from './helpers/readme-blocks.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';

const require = createRequire(import.meta.url);
const README = join(ROOT, 'README.md');
const RUN_TIMEOUT = 60_000;

const TS = new Set(['ts', 'typescript']);
const JS = new Set(['js', 'javascript', 'mjs']);
const SH = new Set(['sh', 'bash', 'shell']);
const PROSE = new Set(['', 'text', 'txt', 'console', 'json', 'output']);

const blocks = readmeBlocks(await readFile(README, 'utf8'));
const where = (block: Block, offset = 0): string => `README.md:${block.line + offset}`;
const fileOf = (block: Block, ext: string): string => `L${block.line}.${ext}`;

let dir: string;
let redis: RedisProcess;
let server: RunningServer;
let etcd: EtcdCluster | undefined;
/** The README's example etcd members. */
const ETCD_HOSTS = /\b10\.0\.0\.[1-3]:2379\b/g;
let pkg: BuiltPackage | undefined;
/** tsc's diagnostics by block file, README lines already substituted. */
let diagnostics: Map<string, string[]>;

before(async () => {
  await mkdir(join(ROOT, '.tmp'), { recursive: true });
  dir = await mkdtemp(join(ROOT, '.tmp', 'readme-'));
  const needsEtcd = blocks.some((block) => block.marker.kind === 'run' && block.code.match(ETCD_HOSTS));
  [redis, server, etcd] = await Promise.all([
    startRedis(),
    startServer({ port: 0, httpPort: 0 }),
    needsEtcd ? startEtcdCluster({ size: 1, partitionable: false }) : undefined,
  ]);
  await writeShims();
  const needsPackage = blocks.some((block) => JS.has(block.lang) && block.marker.kind === 'run');
  [diagnostics, pkg] = await Promise.all([
    typeCheck(blocks.filter((block) => TS.has(block.lang) && block.marker.kind !== 'skip')),
    needsPackage ? buildPackage() : undefined,
  ]);
});

after(async () => {
  await Promise.all([server?.close(), redis?.stop(), etcd?.close(), pkg?.remove()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('README.md code blocks', () => {
  for (const block of blocks) {
    if (PROSE.has(block.lang) && block.problem === undefined) continue;
    // A skipped block shows its reason in the test output (and its marker was checked when parsed).
    const skip = block.problem === undefined && block.marker.kind === 'skip' ? block.marker.reason : false;
    it(`${where(block)} ${block.lang}`, { skip }, async () => {
      assert.equal(block.problem, undefined, `${where(block)}: ${block.problem}`);
      const { marker } = block;
      if (marker.kind === 'skip') return;
      if (TS.has(block.lang)) {
        const errors = diagnostics.get(fileOf(block, 'ts')) ?? [];
        assert.deepEqual(errors, [], `${where(block)}: the block does not type-check:\n${errors.join('\n')}`);
        if (marker.kind === 'run')
          await runBlock(block, process.execPath, ['--import', 'tsx', fileOf(block, 'ts')], dir);
      } else if (marker.kind === 'compile-only') {
        assert.fail(`${where(block)}: compile-only is for TypeScript blocks; a ${block.lang} block runs or is skipped`);
      } else if (JS.has(block.lang)) {
        assert.ok(pkg);
        await writeFile(join(pkg.dir, fileOf(block, 'mjs')), withPorts(block.code));
        await runBlock(block, process.execPath, [fileOf(block, 'mjs')], pkg.dir);
      } else if (SH.has(block.lang)) {
        await runBlock(block, 'bash', ['-e', '-c', withPorts(block.code)], dir);
      } else {
        assert.fail(
          `${where(block)}: \`\`\`${block.lang} blocks are not executed: put <!-- readme-test: skip: WHY --> above it, or teach test/readme.test.ts to run ${block.lang}`,
        );
      }
    });
  }
});

/** The embedded server's default ports (and the example etcd members) in the text, pointed at the ones started here. */
function withPorts(code: string): string {
  const member = etcd?.members[0]?.endpoint;
  return (member ? code.replace(ETCD_HOSTS, member) : code)
    .replace(/\b(127\.0\.0\.1|localhost):7700\b/g, `$1:${server.port}`)
    .replace(/(-p\s+)7700\b/g, `$1${server.port}`)
    .replace(/\b(127\.0\.0\.1|localhost):7701\b/g, `$1:${server.httpPort}`);
}

async function typeCheck(tsBlocks: readonly Block[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  if (tsBlocks.length === 0) return found;
  const entry = (path: string): string[] => [join(ROOT, 'src', path)];
  const tsconfig = {
    extends: join(ROOT, 'tsconfig.json'),
    compilerOptions: {
      noEmit: true,
      paths: {
        holdfast: entry('index.ts'),
        'holdfast/testing': entry('testing/index.ts'),
        'holdfast/server': entry('server/index.ts'),
      },
    },
    // The ambient declarations src/ brings for untyped dependencies (cluster-key-slot) too.
    include: ['*.ts', join(ROOT, 'src/**/*.d.ts')],
  };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  // Each block is a module of its own (`export {}`), so blocks never share top-level names.
  for (const block of tsBlocks) await writeFile(join(dir, fileOf(block, 'ts')), `${withPorts(block.code)}export {};\n`);
  const tsc = await runProcess(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', '.', '--pretty', 'false'],
    dir,
  );
  for (const line of tsc.output.split('\n')) {
    const match = /^L(\d+)\.ts\((\d+),(\d+)\): (.*)$/.exec(line);
    if (!match) continue;
    const [, fence, row, column, message] = match;
    const file = `L${fence}.ts`;
    found.set(file, [...(found.get(file) ?? []), `README.md:${Number(fence) + Number(row)}:${column}: ${message}`]);
  }
  if (tsc.code !== 0 && found.size === 0) throw new Error(`tsc failed outside the README blocks:\n${tsc.output}`);
  return found;
}

async function runBlock(block: Block, command: string, args: readonly string[], cwd: string): Promise<void> {
  const result = await runProcess(command, args, cwd, {
    HOLDFAST_URL: redis.url,
    REDIS_URL: redis.url,
    TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json'),
    PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`,
    NO_COLOR: '1',
  });
  // Stack traces name the block's file; point them at the README instead.
  const output = result.output.replace(
    /(?:file:\/\/)?(?:[^\s()]*\/)?L(\d+)\.[cm]?[jt]s:(\d+)/g,
    (_m, fence: string, row: string) => {
      return `README.md:${Number(fence) + Number(row)}`;
    },
  );
  const status = result.timedOut
    ? `did not finish within ${RUN_TIMEOUT} ms (one that runs until Ctrl-C needs <!-- readme-test: skip: WHY -->)`
    : `exited with ${result.code}`;
  assert.ok(result.code === 0 && !result.timedOut, `${where(block)}: the ${block.lang} block ${status}:\n${output}`);
}

/** `holdfast` (and `npx holdfast`) on PATH: the CLI from src/, so shell blocks need no build or registry. */
async function writeShims(): Promise<void> {
  const bin = join(dir, 'bin');
  await mkdir(bin);
  const cli = `exec "${process.execPath}" --import tsx "${join(ROOT, 'src/cli/main.ts')}" "$@"`;
  const npx = `if [ "$1" = holdfast ]; then shift; ${cli}; fi\necho "readme test: npx $1 is not provided" >&2; exit 127`;
  for (const [name, body] of [
    ['holdfast', cli],
    ['npx', npx],
  ] as const) {
    await writeFile(join(bin, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(bin, name), 0o755);
  }
}

interface Result {
  readonly code: number | null;
  readonly output: string;
  readonly timedOut: boolean;
}

/** Runs to the end or RUN_TIMEOUT (then its whole process group is killed); stdout and stderr interleaved. */
function runProcess(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: string): void => {
      output += chunk;
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, RUN_TIMEOUT);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

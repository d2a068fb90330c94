/**
 * The package as users get it, built into a temp dir (test/helpers/package.ts):
 * - `npm pack` ships dist JavaScript, .d.ts, LICENSE, README and package.json, nothing else;
 * - `require('holdfast')` (and /testing, /server) works from a .cjs file;
 * - TypeScript finds ESM types for `import` and CommonJS types for `require`;
 * - an esbuild bundle of a small app runs from a directory without node_modules, on a spawned
 *   redis-server (the Lua travels inside the JavaScript) and on memory://.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { type BuiltPackage, buildPackage, describeRun, ROOT, run } from './helpers/package.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';

const require = createRequire(import.meta.url);
const FIXTURES = join(ROOT, 'test/package');

let pkg: BuiltPackage;
let redis: RedisProcess;

before(async () => {
  [pkg, redis] = await Promise.all([buildPackage(), startRedis()]);
});

after(async () => {
  await Promise.all([pkg?.remove(), redis?.stop()]);
});

describe('npm pack', () => {
  it('ships only dist JavaScript, .d.ts, LICENSE, README and package.json, and every entry point', async () => {
    const npm = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], pkg.packageDir);
    assert.equal(npm.code, 0, describeRun(npm));
    const [packed] = JSON.parse(npm.stdout) as [{ files: { path: string }[] }];
    const files = packed.files.map((file) => file.path);
    const allowed = /^(dist\/.+\.(js|d\.ts)|dist\/cjs\/package\.json|LICENSE|README\.md|package\.json)$/;
    assert.deepEqual(
      files.filter((path) => !allowed.test(path)),
      [],
      'files a user does not run (src/, tests, source maps, …)',
    );
    const manifest = JSON.parse(await readFile(join(pkg.packageDir, 'package.json'), 'utf8')) as {
      exports: Record<string, string | Record<string, Record<string, string>>>;
      bin: Record<string, string>;
      main: string;
      types: string;
    };
    const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin)];
    for (const entry of Object.values(manifest.exports)) {
      if (typeof entry === 'string') targets.push(entry);
      else for (const condition of Object.values(entry)) targets.push(...Object.values(condition));
    }
    for (const target of targets)
      assert.ok(files.includes(target.replace(/^\.\//, '')), `${target} is not in the tarball`);
    for (const needed of ['LICENSE', 'README.md', 'dist/cjs/package.json', 'dist/server/index.js']) {
      assert.ok(files.includes(needed), `${needed} is not in the tarball`);
    }
  });
});

describe('the holdfast bin', () => {
  it('runs from the built package', async () => {
    const manifest = JSON.parse(await readFile(join(pkg.packageDir, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    const bin = join(pkg.packageDir, manifest.bin.holdfast ?? 'missing');
    const help = await run(process.execPath, [bin, 'server', '--help'], pkg.dir);
    assert.equal(help.code, 0, describeRun(help));
    assert.match(help.stdout, /^usage: holdfast server .*--limit NAME=VALUE/);
    assert.match(await readFile(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });
});

describe('CommonJS', () => {
  it("require('holdfast'), 'holdfast/testing' and 'holdfast/server' from a .cjs file take locks (memory, redis, server)", async () => {
    const app = join(pkg.dir, 'app.cjs');
    await copyFile(join(FIXTURES, 'require-app.cjs'), app);
    const node = await run(process.execPath, [app, redis.url], pkg.dir);
    assert.equal(node.code, 0, describeRun(node));
    assert.deepEqual(JSON.parse(node.stdout), {
      fence: 'bigint',
      holders: 1,
      released: true,
      redisReleased: true,
      remoteFence: 'bigint',
      errors: true,
      fakeClock: 'number',
      maxArgs: 4096,
    });
  });
});

describe('types', () => {
  // The consumer files use the API in ways that only type-check with holdfast's real types
  // (a @ts-expect-error that would be unused if the types were `any` or missing).
  const consumer = (imports: string) => `${imports}
export async function use(): Promise<bigint> {
  const hf = await connect('memory://');
  // @ts-expect-error a name is a string
  hf.mutex(42);
  const server: RunningServer = await startServer({ port: 0, limits: { maxWaitersPerKey: 2 } });
  await server.close();
  const clock: FakeClock = new FakeClock();
  clock.now();
  const lease = await hf.mutex('m').acquire();
  return lease.fence;
}
`;

  it('resolves ESM types for import and CommonJS types for require', async () => {
    await writeFile(
      join(pkg.dir, 'consumer.mts'),
      consumer(
        "import { connect } from 'holdfast';\nimport { FakeClock } from 'holdfast/testing';\nimport { type RunningServer, startServer } from 'holdfast/server';",
      ),
    );
    await writeFile(
      join(pkg.dir, 'consumer.cts'),
      consumer(
        "import { connect } from 'holdfast';\nimport { FakeClock } from 'holdfast/testing';\nimport { type RunningServer, startServer } from 'holdfast/server';",
      ),
    );
    const options = {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      module: 'nodenext',
      target: 'es2022',
      types: ['node'],
    };
    await writeFile(
      join(pkg.dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: options, files: ['consumer.mts', 'consumer.cts'] }),
    );
    const tsc = await run(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', '.', '--explainFiles'],
      pkg.dir,
    );
    assert.equal(tsc.code, 0, describeRun(tsc));
    for (const types of [
      'dist/index.d.ts',
      'dist/cjs/index.d.ts',
      'dist/server/index.d.ts',
      'dist/cjs/server/index.d.ts',
    ]) {
      assert.match(
        tsc.stdout,
        new RegExp(`node_modules/holdfast/${types.replaceAll('.', '\\.')}\\n`),
        `${types} not used`,
      );
    }
  });
});

describe('a single-file bundle (esbuild)', () => {
  let bundleDir: string;

  before(async () => {
    const entry = join(pkg.dir, 'bundle-app.mjs');
    await copyFile(join(FIXTURES, 'bundle-app.mjs'), entry);
    bundleDir = await mkdtemp(join(tmpdir(), 'holdfast-bundle-'));
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile: join(bundleDir, 'app.cjs'),
      logLevel: 'error',
    });
  });

  after(async () => {
    if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
  });

  it('sits in a directory with no node_modules above it', () => {
    for (let dir = bundleDir; dir !== dirname(dir); dir = dirname(dir)) {
      assert.equal(existsSync(join(dir, 'node_modules')), false, `${dir}/node_modules exists`);
    }
  });

  for (const backend of ['redis', 'memory']) {
    it(`runs on ${backend}`, async () => {
      const url = backend === 'redis' ? redis.url : 'memory://';
      const node = await run(process.execPath, [join(bundleDir, 'app.cjs'), url], bundleDir);
      assert.equal(node.code, 0, describeRun(node));
      assert.deepEqual(JSON.parse(node.stdout), {
        fence: 'bigint',
        holders: 1,
        released: true,
        slot: true,
        allowed: true,
      });
    });
  }
});

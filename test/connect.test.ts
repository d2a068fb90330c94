/**
 * connect() through the backend registry: bad URLs are ValidationErrors before any I/O, an
 * unknown scheme names the ones there are, and a backend's module (and its dependencies) is
 * loaded only when used: importing holdfast does not load ioredis.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REGISTRY } from '../src/backends/registry.js';
import { connect, ValidationError } from '../src/index.js';
import { withTimeout } from './helpers/wait.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('connect() registry', () => {
  it('refuses a malformed URL with ValidationError before any I/O', async () => {
    // Each of these would otherwise try to connect (and fail with BackendError) or hang.
    for (const url of [
      'redis://127.0.0.1:notaport',
      'redis://:6379',
      'redis://a b:6379',
      'redis://127.0.0.1:0',
      'redis://127.0.0.1:70000',
      'rediss://[::1',
      'holdfast://127.0.0.1:notaport',
      'holdfast://:7700',
    ]) {
      await assert.rejects(connect(url), ValidationError, url);
    }
  });

  it('an unknown scheme names every registered one', async () => {
    await assert.rejects(connect('mysql://127.0.0.1'), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      for (const entry of REGISTRY)
        for (const scheme of entry.schemes) assert.match(error.message, new RegExp(`${scheme}://`));
      return true;
    });
    await assert.rejects(connect({ mongo: {} } as never), ValidationError);
  });

  it('importing holdfast loads no backend dependency; using redis:// does', async () => {
    const count = (imports: string): Promise<number> => loadedIoredisFiles(imports);
    assert.equal(await count("await import('./src/index.ts');"), 0, 'holdfast alone');
    assert.equal(
      await count("const { connect } = await import('./src/index.ts'); await (await connect('memory://')).close();"),
      0,
      'memory://',
    );
    // The control: the same probe does see ioredis once the redis backend's module is loaded.
    assert.ok((await count("await import('./src/backends/redis/index.ts');")) > 0, 'the redis module loads ioredis');
  });
});

/** Runs `code` in a fresh Node process and counts the ioredis files in its CommonJS cache. */
function loadedIoredisFiles(code: string): Promise<number> {
  const probe = `import { createRequire } from 'node:module';
${code}
const cache = createRequire(import.meta.url)('node:module')._cache;
console.log(Object.keys(cache).filter((path) => path.includes('/node_modules/ioredis/')).length);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: ROOT });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const done = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const n = Number(out.trim());
      if (code === 0 && out.trim() !== '' && Number.isInteger(n)) resolve(n);
      else reject(new Error(`probe exited ${code}: ${err.slice(-2000)}`));
    });
  });
  return withTimeout(done, 60_000, 'the import probe');
}

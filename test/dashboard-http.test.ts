/**
 * The dashboard's HTTP side without a browser: who may see it, who may release, what it refuses,
 * and the CLI's answers to bad input. On the memory backend, in this process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Dashboard, startDashboard } from '../src/dashboard/server.js';
import { connect, type Holdfast, MemoryStore, ValidationError } from '../src/index.js';
import { waitFor } from './helpers/wait.js';

const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;
const run = promisify(execFile);

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request with full control of its headers (fetch will not send a foreign Host). */
function call(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      new URL(path, url),
      { method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.once('error', reject);
    req.end(options.body);
  });
}

const json = { 'Content-Type': 'application/json' };

describe('a loopback dashboard without a token', () => {
  let store: MemoryStore;
  let hf: Holdfast;
  let readOnly: Dashboard;
  let releasing: Dashboard;
  before(async () => {
    store = new MemoryStore();
    hf = await connect({ memory: store });
    readOnly = await startDashboard({ hf, port: 0 });
    releasing = await startDashboard({ hf, port: 0, allowRelease: true });
  });
  after(async () => {
    await Promise.all([readOnly.close(), releasing.close()]);
    await hf.close();
  });

  it('serves the page with a policy that allows only its own script and no framing', async () => {
    const page = await call(readOnly.url, '/');
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>holdfast dashboard<\/title>/);
    const policy = String(page.headers['content-security-policy']);
    assert.match(policy, /script-src 'sha256-[^']+'/);
    assert.match(policy, /frame-ancestors 'none'/);
    assert.doesNotMatch(policy, /unsafe-inline/);
  });

  it('shows the state as JSON, fences as strings', async () => {
    const lease = await hf.mutex('shown', { owner: { pid: 1 } }).acquire();
    const find = async () => {
      const state = JSON.parse((await call(readOnly.url, '/api/state')).body);
      return { state, shown: state.locks.find((lock: { name: string }) => lock.name === 'shown') };
    };
    // The dashboard inspects a name when its event arrives: wait until it has.
    await waitFor(async () => (await find()).shown !== undefined, { what: 'the lock in /api/state' });
    const { state, shown } = await find();
    await lease.release();
    assert.equal(shown.holders[0].fence, lease.fence.toString());
    assert.equal(shown.holders[0].owner, '{"pid":1}');
    assert.equal(state.allowRelease, false);
  });

  it('refuses a request addressed to another host name (DNS rebinding)', async () => {
    const answer = await call(readOnly.url, '/api/state', { headers: { Host: 'attacker.example:7701' } });
    assert.equal(answer.status, 403);
  });

  it('is read-only unless started with allowRelease', async () => {
    const lease = await hf.mutex('kept').acquire();
    const body = JSON.stringify({ name: 'kept', reason: 'test' });
    const answer = await call(readOnly.url, '/api/release', { method: 'POST', headers: json, body });
    assert.equal(answer.status, 403);
    assert.equal(lease.valid, true);
    await lease.release();
  });

  it('force-releases with a reason, and refuses what is missing, foreign or out of date', async () => {
    const lease = await hf.mutex('stuck', { autoExtend: false, ttl: 60_000 }).acquire();
    const post = (body: unknown, headers: Record<string, string> = json) =>
      call(releasing.url, '/api/release', { method: 'POST', headers, body: JSON.stringify(body) });
    assert.equal((await post({ name: 'stuck' })).status, 400, 'no reason');
    assert.equal((await post({ name: 'stuck', reason: '  ' })).status, 400, 'a blank reason');
    assert.equal((await post({ name: 'stuck', reason: 'x', extra: 1 })).status, 400, 'an unknown field');
    assert.equal((await post({ name: 'stuck', reason: 'x' }, { 'Content-Type': 'text/plain' })).status, 400);
    const foreign = { ...json, Origin: 'http://attacker.example' };
    assert.equal((await post({ name: 'stuck', reason: 'x' }, foreign)).status, 403, 'another origin');
    assert.equal((await post({ name: 'stuck', reason: 'x', fences: ['1'] })).status, 409, 'other holders');
    assert.equal((await hf.inspect('stuck'))?.holders.length, 1);

    const own = { ...json, Origin: releasing.url.replace(/\/$/, '') };
    const answer = await post({ name: 'stuck', reason: 'hung', fences: [lease.fence.toString()] }, own);
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), { released: 1 });
    assert.equal(await hf.inspect('stuck'), null);
  });
});

describe('a dashboard with a token', () => {
  it('refuses a public address without a token', async () => {
    const hf = await connect('memory://');
    await assert.rejects(startDashboard({ hf, host: '0.0.0.0', port: 0 }), ValidationError);
    await hf.close();
  });

  it('answers API calls only with the token, from any host name', async () => {
    const hf = await connect('memory://');
    const dashboard = await startDashboard({ hf, port: 0, token: 's3cret' });
    try {
      assert.equal((await call(dashboard.url, '/api/state')).status, 401);
      const wrong = { Authorization: 'Bearer nope' };
      assert.equal((await call(dashboard.url, '/api/state', { headers: wrong })).status, 401);
      const right = { Authorization: 'Bearer s3cret', Host: 'dashboard.internal:7701' };
      assert.equal((await call(dashboard.url, '/api/state', { headers: right })).status, 200);
      // The page itself holds no data; it asks for the token.
      assert.equal((await call(dashboard.url, '/')).status, 200);
    } finally {
      await dashboard.close();
      await hf.close();
    }
  });
});

describe('holdfast dashboard on the command line', () => {
  const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', CLI, 'dashboard', ...args]);
  const fails = async (args: string[], code: number, pattern: RegExp) =>
    assert.rejects(cli(...args), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, code);
      assert.match(error.stderr ?? '', pattern);
      assert.doesNotMatch(error.stderr ?? '', /\n\s+at /, 'no stack trace');
      return true;
    });

  it('answers bad input with one line and usage, never a stack trace', async () => {
    await fails(['--port', 'http'], 2, /^holdfast: --port must be 0-65535, got "http"\nusage: holdfast dashboard/);
    await fails(['--bogus'], 2, /^holdfast: .*bogus.*\nusage: holdfast dashboard/);
    await fails(['memory://', '--host', '0.0.0.0', '--port', '0'], 2, /^holdfast: serving on 0\.0\.0\.0 needs --token/);
  });
});

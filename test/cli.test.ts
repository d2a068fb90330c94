/** The CLI is a thin shell over the public API: ls, inspect and release against a real Redis. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { connect, type Holdfast, LeaseLostError } from '../src/index.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';
import { aborted, withTimeout } from './helpers/wait.js';

const run = promisify(execFile);
const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;
let redis: RedisProcess;
let hf: Holdfast;

function cli(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', CLI, '--url', redis.url, '--prefix', 'cli:', ...args]);
}

before(async () => {
  redis = await startRedis();
  hf = await connect(redis.url, { prefix: 'cli:', waiterTtl: 600 });
});

after(async () => {
  await hf.close();
  await redis.stop();
});

it('lists and inspects a held lock, then force-releases it and the holder learns it lost', async () => {
  const lease = await hf.mutex('agent:7', { ttl: 600 }).acquire();
  assert.equal((await cli('ls', 'agent:*')).stdout.trim(), 'agent:7');
  const state = JSON.parse((await cli('inspect', 'agent:7')).stdout);
  assert.equal(state.holders.length, 1);
  assert.equal(state.holders[0].fence, lease.fence.toString());
  assert.match((await cli('release', 'agent:7')).stdout, /released 1 holder/);
  const reason = await withTimeout(aborted(lease.signal), 2_000, 'lease loss after force-release');
  assert.ok(reason instanceof LeaseLostError);
  assert.equal((await cli('inspect', 'agent:7')).stdout.trim(), 'free');
});

it('answers an unknown command with usage and exit code 2', async () => {
  await assert.rejects(cli('frobnicate'), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 2);
    assert.match(error.stderr ?? '', /usage: holdfast/);
    return true;
  });
});

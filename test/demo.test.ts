/**
 * `npm run demo` end to end, shortened (`--quick`), so it cannot rot: on the embedded server it
 * starts itself and on a spawned redis-server, it must exit 0 with a ✓ line for every scenario.
 * And the other way round: a scenario fed a broken setup must come out ✗.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Display } from '../examples/demo/display.js';
import { partnerApi } from '../examples/demo/partner-api/run.js';
import { Hosts } from '../examples/demo/workers.js';
import { startServer } from '../src/server/index.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function demo(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/main.ts', '--quick', ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** The verified summary line of each scenario, in order. */
const SUMMARIES = [
  /^✓ 12\/12 tasks handled by 3 agents, never over capacity .*bart got no task while away/m,
  /^✓ 15\/15 calls from 3 servers, busiest 800 ms window [1-5]\/5, 0 failed, [1-9]\d* waited/m,
  /^✓ 20 concurrent requests from 4 processes for one cold key: computed 1×, all got the same value/m,
  /^✓ 2 ticks × 3 instances: 2 runs, exactly one per tick; 4 skips/m,
];

function assertAllVerified(run: Run): void {
  assert.equal(run.code, 0, run.output);
  for (const summary of SUMMARIES) assert.match(run.output, summary, run.output);
  assert.doesNotMatch(run.output, /✗/, run.output);
  assert.match(run.output, /^all 4 scenarios verified in /m);
  // Plain output off a terminal: no ANSI sequences, no redrawn lines.
  assert.ok(!run.output.includes('\x1b['), 'no ANSI escape sequences');
}

describe('npm run demo -- --quick', () => {
  it('on the embedded server: every scenario verified, exit code 0', { timeout: 90_000 }, async () => {
    const run = await demo();
    assertAllVerified(run);
    assert.match(run.output, /^backend: embedded holdfast server on holdfast:\/\/127\.0\.0\.1:\d+/m);
  });

  describe('on Redis', () => {
    let redis: RedisProcess;
    before(async () => {
      redis = await startRedis();
    });
    after(async () => {
      await redis.stop();
    });

    it('every scenario verified, exit code 0', { timeout: 90_000 }, async () => {
      const run = await demo('--redis', redis.url);
      assertAllVerified(run);
      assert.match(run.output, new RegExp(`^backend: Redis at ${redis.url.replaceAll('.', '\\.')}`, 'm'));
    });
  });

  it('refuses an unknown flag with exit code 2', async () => {
    const run = await demo('--bogus');
    assert.equal(run.code, 2, run.output);
    assert.match(run.output, /usage: npm run demo/);
  });
});

describe('the checks can fail', () => {
  it('servers that believe the partner allows 8 per 800 ms break its limit of 5: ✗', { timeout: 60_000 }, async () => {
    const server = await startServer({ host: '127.0.0.1', port: 0 });
    const target = {
      url: `holdfast://127.0.0.1:${server.port}`,
      prefix: 'holdfast:',
      cache: { kind: 'file', dir: '/nonexistent' } as const,
    };
    const hosts = new Hosts(target, 3);
    let printed = '';
    const display = new Display({ out: { write: (text: string) => (printed += text) } });
    try {
      await hosts.ready;
      const result = await partnerApi({ target, hosts, display, quick: true }, { configuredLimit: 8 });
      assert.equal(result.ok, false, printed);
      assert.match(result.details.join('\n'), /✗ [6-9] calls in one 800 ms window, the partner allows 5/);
    } finally {
      await hosts.close();
      await server.close();
    }
  });
});

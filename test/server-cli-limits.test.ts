/**
 * `holdfast server --limit NAME=VALUE`: the limits of startServer from the command line. A bad
 * flag is one line and the usage (exit 2) before anything listens; a good one is in force.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runServerCli } from '../src/server/main.js';
import { withTimeout } from './helpers/wait.js';
import { redisCli, spawnServer } from './server/process.js';

async function cli(args: readonly string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const output = { out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };
  const code = await runServerCli(['--port', '0', '--no-http', ...args], output);
  return { code, lines: lines.join('\n').split('\n') };
}

describe('holdfast server --limit', () => {
  for (const [flag, reason] of [
    ['maxArg=3', /no limit "maxArg"/],
    ['maxArgs=three', /must be a whole number/],
    ['maxArgs', /must be a whole number/],
    ['maxArgs=0', /maxArgs must be an integer >= 1/],
  ] as const) {
    it(`refuses --limit ${flag} with one line and the usage`, async () => {
      const { code, lines } = await cli(['--limit', flag]);
      assert.equal(code, 2);
      assert.match(lines[0] ?? '', reason);
      assert.match(lines[1] ?? '', /^usage: holdfast server/);
      assert.ok(
        lines.some((line) => line.includes('maxWaitersPerKey')),
        'the usage names the limits',
      );
    });
  }

  it('starts with the limits given, says so, and enforces them', async () => {
    const proc = await spawnServer(['--no-http', '--limit', 'maxArgs=3', '--limit', 'idleTimeout=0']);
    try {
      assert.match(proc.output(), /limits: maxArgs=3 idleTimeout=0 \(the others at their defaults\)/);
      assert.deepEqual(await redisCli(proc.port, ['HOLDFAST.LIST', 'a*']), ['']); // 2 arguments: served, no names
      const [answer] = await redisCli(proc.port, ['HOLDFAST.LIST', 'a*', 'b', 'c']);
      assert.match(answer ?? '', /^LIMIT request of 4 arguments; the limit is 3/);
    } finally {
      proc.child.kill('SIGTERM');
      assert.equal(await withTimeout(proc.exited, 15_000, 'the server to stop'), 0);
    }
  });
});

/**
 * The server's protocol from the outside, on its default backend (its own memory): redis-cli
 * and a stdlib-only Python client talk to it, a Node client shares its locks with them, tokens
 * guard non-loopback binds, a SIGTERM shuts a server process down gracefully.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runServerCli } from '../src/server/index.js';
import { withTimeout } from './helpers/wait.js';
import { serverBackend } from './server/backend.js';
import { spawnServer } from './server/process.js';
import { protocolSuite } from './server/protocol-suite.js';
import { RawClient } from './server/raw.js';

protocolSuite(serverBackend('memory'));

describe('holdfast server flags', () => {
  it('refuses a bad limit or backend with one line and the usage, exit code 2', async () => {
    for (const args of [
      ['--max-connections', 'many'],
      ['--max-waiters-per-key', '0'],
      ['--backend', 'ftp://example.com'],
      ['--backend', 'redis://127.0.0.1:99999'],
    ]) {
      const lines: string[] = [];
      const output = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
      assert.equal(await runServerCli(['--port', '0', ...args], output), 2, args.join(' '));
      const [first, second] = lines.join('\n').split('\n');
      assert.match(first ?? '', /^holdfast server: /, args.join(' '));
      assert.match(second ?? '', /^usage: holdfast server/, 'the usage follows the one line');
      assert.doesNotMatch(lines.join('\n'), /\n\s+at /, 'no stack trace');
    }
  });

  it('serves with the limits it was given', async () => {
    const proc = await spawnServer(['--max-connections', '1', '--no-http']);
    try {
      const first = await RawClient.open(proc.port);
      const second = await RawClient.open(proc.port);
      const refused = await withTimeout(second.reply(), 5000, 'the refusal');
      assert.ok(refused !== null && typeof refused === 'object' && 'code' in refused && refused.code === 'LIMIT');
      assert.equal(await first.call('PING'), 'PONG');
      first.close();
      second.close();
    } finally {
      proc.child.kill('SIGKILL');
    }
  });
});

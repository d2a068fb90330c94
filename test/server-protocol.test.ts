/**
 * The server's protocol from the outside, on its default backend (its own memory): redis-cli
 * and a stdlib-only Python client talk to it, a Node client shares its locks with them, tokens
 * guard non-loopback binds, a SIGTERM shuts a server process down gracefully.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runServerCli } from '../src/server/index.js';
import { serverBackend } from './server/backend.js';
import { protocolSuite } from './server/protocol-suite.js';

protocolSuite(serverBackend('memory'));

describe('holdfast server --backend', () => {
  it('refuses a URL no backend takes with one line and the usage, exit code 2, before listening', async () => {
    for (const url of ['ftp://example.com', 'redis://127.0.0.1:99999', 'redis://']) {
      const lines: string[] = [];
      const output = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
      assert.equal(await runServerCli(['--port', '0', '--backend', url], output), 2, url);
      const [first, second] = lines.join('\n').split('\n');
      assert.match(first ?? '', /^holdfast server: /, url);
      assert.match(second ?? '', /^usage: holdfast server/, 'the usage follows the one line');
      assert.doesNotMatch(lines.join('\n'), /\n\s+at /, 'no stack trace');
    }
  });
});

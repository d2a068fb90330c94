/**
 * Malformed input never crashes the server (property-based, fast-check): thousands of random
 * and truncated frames over many connections — random bytes, cut-off commands, huge and
 * negative lengths, nested arrays, real commands with random arguments, split at random
 * points — while a bystander connection keeps getting answers; then a normal client works.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { COMMAND_NAMES } from '../src/server/commands/index.js';
import { DEFAULT_LIMITS } from '../src/server/limits.js';
import { RequestParser } from '../src/server/resp-parser.js';
import { withTimeout } from './helpers/wait.js';
import { spawnServer } from './server/process.js';
import { encode, RawClient } from './server/raw.js';
import { connectServer } from './server/world.js';

const RUNS = 2500;

const word = fc.oneof(
  fc.constantFrom('0', '1', '-1', '100', '5000', 'mutex', 'semaphore', 'token-bucket', 'WAIT', 'LIMIT', '*', ''),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -10, max: 1_000_000 }).map(String),
);

/** A real command (any case) with random arguments: exercises every handler's checks. */
const command = fc
  .tuple(fc.constantFrom(...COMMAND_NAMES, 'PING', 'QUIT'), fc.array(word, { maxLength: 12 }), fc.boolean())
  .map(([name, args, lower]) => encode([lower ? name.toLowerCase() : name, ...args]));

const lengthLine = fc
  .tuple(
    fc.constantFrom('*', '$'),
    fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(2 ** 31, 2 ** 53, 1e20, 999_999_999_999)),
  )
  .map(([marker, n]) => `${marker}${n}\r\n`);

const nested = fc
  .array(fc.oneof(lengthLine, command, fc.constantFrom('*1\r\n', '*2\r\n*1\r\n$4\r\nPING\r\n', '+OK\r\n', ':1\r\n')), {
    maxLength: 6,
  })
  .map((parts) => parts.join(''));

const frame = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
  command.chain((text) => fc.nat(text.length).map((cut) => Buffer.from(text.slice(0, cut)))),
  command.map((text) => Buffer.from(text)),
  nested.map((text) => Buffer.from(text)),
  fc.string({ maxLength: 200 }).map((text) => Buffer.from(`${text}\r\n`)),
);

/** Frames joined, then cut into chunks at random points (how TCP may deliver them). */
const session = fc
  .tuple(fc.array(frame, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 4 }))
  .map(([frames, cuts]) => {
    const bytes = Buffer.concat(frames);
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    return [0, ...points, bytes.length]
      .slice(1)
      .map((end, i, all) => bytes.subarray(i === 0 ? 0 : (all[i - 1] ?? 0), end));
  });

/** Writes the chunks on a fresh connection, lets the server react for a moment, then hangs up. */
function send(port: number, chunks: readonly Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.once('close', () => resolve());
    socket.once('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      setTimeout(() => socket.destroy(), 2);
    });
  });
}

describe('server fuzz', () => {
  it('parses a pipeline of valid requests the same however TCP splits it', () => {
    const args = fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { minLength: 1, maxLength: 8 });
    const pipeline = fc.array(args, { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(pipeline, fc.array(fc.nat(), { maxLength: 10 }), (requests, cuts) => {
        const bytes = Buffer.from(requests.map((r) => encode(r)).join(''));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const parser = new RequestParser(DEFAULT_LIMITS);
        const parsed: string[][] = [];
        let start = 0;
        for (const end of [...points, bytes.length]) {
          parser.feed(bytes.subarray(start, end));
          start = end;
          for (let next = parser.next(); next !== null; next = parser.next()) {
            parsed.push(next.map((arg) => (typeof arg === 'string' ? arg : arg.toString('utf8'))));
          }
        }
        assert.deepEqual(parsed, requests);
        assert.equal(parser.midRequest, false);
      }),
      { numRuns: 1000 },
    );
  });

  it('survives thousands of random and truncated frames, and still serves a normal client', async () => {
    // A server process of its own: a crash is a crash here, not an exception a test runner catches.
    const proc = await spawnServer();
    const bystander = await RawClient.open(proc.port);
    try {
      await fc.assert(
        fc.asyncProperty(session, async (chunks) => {
          await send(proc.port, chunks);
          const alive = withTimeout(bystander.call('PING'), 2000, 'the bystander’s PING');
          const pong = await alive.catch((error: unknown) => error);
          if (proc.child.exitCode !== null || pong !== 'PONG') {
            throw new Error(`the server stopped serving (exit ${proc.child.exitCode}):\n${proc.output()}`);
          }
        }),
        // Once the process is gone every input fails: shrinking would only mislead.
        { numRuns: RUNS, endOnFailure: true },
      );
      const hf = await connectServer(`holdfast://127.0.0.1:${proc.port}`);
      const lease = await hf.mutex('after-fuzz').tryAcquire();
      assert.ok(lease, 'a normal client still acquires');
      const waiting = hf.mutex('after-fuzz').acquire({ wait: 5000 });
      await lease.release();
      await (await withTimeout(waiting, 5000, 'the hand-off')).release();
      await hf.close();
      bystander.close();
      proc.child.kill('SIGTERM');
      assert.equal(await withTimeout(proc.exited, 10_000, 'the server to exit'), 0, 'a clean exit after the abuse');
    } finally {
      bystander.close();
      proc.child.kill('SIGKILL');
    }
  });
});

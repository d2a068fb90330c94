/**
 * Every limit that keeps the server up under abuse is answered with a clear error to the one
 * connection that hit it, while another client keeps working.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RespValue } from '../src/backends/server-client/resp.js';
import { BackendError } from '../src/index.js';
import type { ServerLimits } from '../src/server/limits.js';
import { type RunningServer, startServer } from '../src/server/server.js';
import { sleep, withTimeout } from './helpers/wait.js';
import { RawClient } from './server/raw.js';
import { connectServer, serverUrl } from './server/world.js';

function code(reply: RespValue): unknown {
  return reply !== null && typeof reply === 'object' && 'code' in reply ? reply.code : reply;
}

function message(reply: RespValue): string {
  return reply !== null && typeof reply === 'object' && 'message' in reply ? reply.message : '';
}

async function withServer(
  limits: Partial<ServerLimits>,
  body: (server: RunningServer) => Promise<void>,
): Promise<void> {
  const server = await startServer({ port: 0, limits });
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

/** Another client, which must not have noticed anything. */
async function bystanderWorks(server: RunningServer): Promise<void> {
  const raw = await RawClient.open(server.port);
  try {
    assert.equal(await raw.call('PING'), 'PONG');
    assert.ok(Array.isArray(await raw.call('HOLDFAST.LOCK', `bystander:${Math.random()}`, '1000')));
  } finally {
    raw.close();
  }
}

/** A low-level ACQUIRE that queues when the lock is taken. */
function enqueue(raw: RawClient, name: string, token: string): Promise<RespValue> {
  return raw.call('HOLDFAST.ACQUIRE', name, 'mutex', token, 1, 1, 5000, 1, 6000, 5000, '');
}

describe('server limits', () => {
  it('refuses an oversized request before reading it, and closes only that connection', () =>
    withServer({ maxFrameBytes: 1024 }, async (server) => {
      const other = await RawClient.open(server.port);
      const abuser = await RawClient.open(server.port);
      abuser.write('*2\r\n$4\r\nPING\r\n$100000000\r\nxxxx');
      const reply = await withTimeout(abuser.reply(), 5000, 'the refusal');
      assert.equal(code(reply), 'LIMIT');
      assert.match(message(reply), /1024 bytes/);
      await withTimeout(abuser.closed, 5000, 'the abuser to be disconnected');
      assert.equal(await other.call('PING'), 'PONG');
      other.close();
      await bystanderWorks(server);
    }));

  it('refuses a request with too many arguments, or a too long inline line', () =>
    withServer({ maxArgs: 10, maxInlineBytes: 100 }, async (server) => {
      const many = await RawClient.open(server.port);
      many.write('*11\r\n');
      assert.equal(code(await many.reply()), 'LIMIT');
      await withTimeout(many.closed, 5000, 'the disconnect');
      const inline = await RawClient.open(server.port);
      inline.write('x'.repeat(200));
      assert.equal(code(await inline.reply()), 'LIMIT');
      await withTimeout(inline.closed, 5000, 'the disconnect');
      await bystanderWorks(server);
    }));

  it('refuses a waiter beyond the limit per key, on a lock and on a rate limiter', () =>
    withServer({ maxWaitersPerKey: 2 }, async (server) => {
      const raw = await RawClient.open(server.port);
      assert.ok(Array.isArray(await raw.call('HOLDFAST.LOCK', 'k', '5000')));
      assert.deepEqual(((await enqueue(raw, 'k', 'w1')) as number[]).slice(0, 2), [0, 0]);
      assert.equal(((await enqueue(raw, 'k', 'w2')) as number[])[1], 1);
      const refused = await enqueue(raw, 'k', 'w3');
      assert.equal(code(refused), 'LIMIT');
      assert.match(message(refused), /too many waiters on this key/);
      assert.equal(((await enqueue(raw, 'k', 'w1')) as number[])[1], 0, 'a queued waiter still refreshes');
      const take = (token: string) =>
        raw.call('HOLDFAST.RATETAKE', 'r', 'sliding-window', 1, 60_000, 1, 1, token, 6000);
      assert.equal(((await take('')) as number[])[0], 1);
      assert.equal(((await take('t1')) as number[])[5], 0);
      assert.equal(((await take('t2')) as number[])[5], 1);
      assert.equal(code(await take('t3')), 'LIMIT');
      assert.equal(((await take('t2')) as number[])[5], 1, 'the refused one did not stay in line');
      await bystanderWorks(server);
      raw.close();
    }));

  it('refuses waiters and names beyond the limits per connection', () =>
    withServer({ maxWaitersPerConnection: 2, maxNamesPerClient: 3 }, async (server) => {
      const holder = await RawClient.open(server.port);
      for (const name of ['a', 'b', 'c']) await holder.call('HOLDFAST.LOCK', name, '5000');
      const raw = await RawClient.open(server.port);
      await enqueue(raw, 'a', 't1');
      await enqueue(raw, 'b', 't2');
      assert.equal(code(await enqueue(raw, 'c', 't3')), 'LIMIT');
      assert.equal(((await enqueue(holder, 'c', 't4')) as number[])[0], 0, 'another connection may queue');
      const [token] = (await raw.call('HOLDFAST.LOCK', 'n1', '5000')) as string[];
      const third = await raw.call('HOLDFAST.LOCK', 'n2', '5000');
      assert.equal(code(third), 'LIMIT', 'a, b and n1 are three names');
      assert.equal(await raw.call('HOLDFAST.UNLOCK', 'n1', token ?? ''), 1);
      assert.ok(Array.isArray(await raw.call('HOLDFAST.LOCK', 'n2', '5000')), 'a released name no longer counts');
      holder.close();
      raw.close();
    }));

  it('closes an idle connection, telling a RESP3 client why; a Node client stays by its heartbeat', () =>
    withServer({ idleTimeout: 300 }, async (server) => {
      const hf = await connectServer(serverUrl(server));
      const idle = await RawClient.open(server.port);
      await idle.call('HELLO', '3');
      const push = await withTimeout(
        idle.push((p) => p[0] === 'closing'),
        5000,
        'the closing push',
      );
      assert.match(String(push[1]), /idle/);
      await withTimeout(idle.closed, 5000, 'the idle connection to close');
      await sleep(600);
      assert.equal(server.connections, 1, 'the Node client is still connected');
      const lease = await hf.mutex('m').tryAcquire();
      assert.ok(lease);
      await hf.close();
    }));

  it('closes a connection whose request stays unfinished, with -LIMIT', () =>
    withServer({ slowClientTimeout: 200 }, async (server) => {
      const slow = await RawClient.open(server.port);
      slow.write('*2\r\n$4\r\nECHO\r\n$5\r\nab');
      const reply = await withTimeout(slow.reply(), 5000, 'the refusal');
      assert.equal(code(reply), 'LIMIT');
      assert.match(message(reply), /not completed/);
      await withTimeout(slow.closed, 5000, 'the disconnect');
      await bystanderWorks(server);
    }));

  it('cuts off a client that does not read its replies', () =>
    withServer({ maxOutputBytes: 64 * 1024, slowClientTimeout: 500 }, async (server) => {
      const greedy = await RawClient.open(server.port);
      greedy.socket.pause();
      const payload = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 400 && !greedy.socket.destroyed; i++) greedy.write(`ECHO ${payload}\r\n`);
      await withTimeout(greedy.closed, 10_000, 'the greedy client to be cut off');
      await bystanderWorks(server);
    }));

  it('refuses connections beyond the limit, and watches beyond theirs', () =>
    withServer({ maxConnections: 2, maxWatchesPerConnection: 1 }, async (server) => {
      const first = await RawClient.open(server.port);
      const second = await RawClient.open(server.port);
      const third = await RawClient.open(server.port);
      assert.equal(code(await third.reply()), 'LIMIT');
      await withTimeout(third.closed, 5000, 'the refused connection to close');
      await first.call('HELLO', '3');
      assert.equal(await first.call('HOLDFAST.WATCH', 'a*'), 1);
      assert.equal(code(await first.call('HOLDFAST.WATCH', 'b*')), 'LIMIT');
      assert.equal(await second.call('PING'), 'PONG');
      first.close();
      second.close();
    }));

  it('reaches a Node client as a BackendError naming the limit', () =>
    withServer({ maxWaitersPerKey: 1 }, async (server) => {
      const [a, b, c] = await Promise.all([1, 2, 3].map(() => connectServer(serverUrl(server))));
      assert.ok(a && b && c);
      const lease = await a.mutex('m').tryAcquire();
      const waiting = b.mutex('m').acquire({ wait: 5000 });
      while (((await a.inspect('m'))?.waiters.length ?? 0) === 0) await sleep(5);
      await assert.rejects(c.mutex('m').acquire({ wait: 5000 }), (error) => {
        assert.ok(error instanceof BackendError);
        assert.match(error.message, /LIMIT too many waiters/);
        return true;
      });
      await lease?.release();
      await (await waiting).release();
      await Promise.all([a.close(), b.close(), c.close()]);
    }));
});

/**
 * What only the holdfast:// client can show: one pipelined connection per client, events and
 * wake-ups by push, reconnecting after a server restart (watches and waiters resume), a lease
 * lost by its local deadline while the server is unreachable, errors mapped to HoldfastErrors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServerBackend } from '../src/backends/server-client/index.js';
import { ReplyParser } from '../src/backends/server-client/resp.js';
import { parseServerUrl } from '../src/backends/server-client/url.js';
import { newClientId } from '../src/engine/core.js';
import { BackendError, LeaseLostError, type LockEvent, ValidationError } from '../src/index.js';
import { startServer } from '../src/server/server.js';
import { aborted, sleep, withTimeout } from './helpers/wait.js';
import { connectServer, serverUrl, useHoldfastServer } from './server/world.js';

describe('holdfast:// client', () => {
  const server = useHoldfastServer();
  const url = (): string => serverUrl(server());

  it('uses one connection per client, however many requests and waiters', async () => {
    const before = server().connections;
    const [a, b] = [await connectServer(url()), await connectServer(url())];
    try {
      assert.equal(server().connections - before, 2);
      const names = Array.from({ length: 200 }, (_, i) => `one:${i}`);
      const leases = await Promise.all(names.map((name) => a.mutex(name).tryAcquire()));
      assert.ok(
        leases.every((lease) => lease !== null),
        'pipelined requests each got their own reply',
      );
      const waits = names.slice(0, 20).map((name) => b.mutex(name).acquire({ wait: 5000 }));
      while (((await a.inspect('one:19'))?.waiters.length ?? 0) === 0) await sleep(5);
      assert.equal(server().connections - before, 2, 'waiting opened no connection');
      for (const lease of leases) await lease?.release();
      for (const lease of await withTimeout(Promise.all(waits), 5000, 'the hand-offs')) await lease.release();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('renews more leases than one EXTENDMANY carries', async () => {
    const hf = await connectServer(url());
    try {
      const leases = await Promise.all(
        Array.from({ length: 300 }, (_, i) => hf.mutex(`many:${i}`, { ttl: 1000 }).tryAcquire()),
      );
      // Long enough for two TTLs: only renewals can keep them; generous for a loaded machine.
      await sleep(2500);
      assert.ok(
        leases.every((lease) => lease?.valid === true),
        'every lease renewed past three TTLs',
      );
      for (const lease of leases) await lease?.release();
    } finally {
      await hf.close();
    }
  });

  it('pushes watch events and serves the rate limiter, waiting included', async () => {
    const hf = await connectServer(url());
    try {
      const controller = new AbortController();
      const stream = hf.watch('rl:*', { signal: controller.signal });
      await stream.ready;
      const limiter = hf.rateLimiter('rl:api', { limit: 2, window: 300 });
      assert.equal((await limiter.tryTake()).allowed, true);
      assert.equal((await limiter.tryTake()).allowed, true);
      const refused = await limiter.tryTake();
      assert.equal(refused.allowed, false);
      assert.ok(refused.retryAfter > 0 && refused.retryAfter <= 300, `retryAfter ${refused.retryAfter}`);
      const started = performance.now();
      assert.equal((await limiter.take(1, { wait: 2000 })).allowed, true);
      assert.ok(performance.now() - started < 1000, 'admitted when the window moved on');
      const seen: LockEvent[] = [];
      for await (const event of stream) {
        seen.push(event);
        if (event.type === 'rate-limited') break;
      }
      assert.equal(seen[0]?.kind, 'rate-limiter');
      controller.abort();
    } finally {
      await hf.close();
    }
  });

  it('reads replies longer than its read buffer, which each read overwrites', async () => {
    const hf = await connectServer(url());
    try {
      // ~100 KB of LIST reply: it arrives in several reads of the connection's one 64 KiB buffer.
      const names = Array.from({ length: 1500 }, (_, i) => `long:${String(i).padStart(4, '0')}:${'x'.repeat(60)}`);
      const leases = await Promise.all(names.map((name) => hf.mutex(name).tryAcquire()));
      assert.deepEqual(await hf.list('long:*'), names);
      for (const lease of leases) await lease?.release();
    } finally {
      await hf.close();
    }
  });

  it('keeps the first part of a frame split across reads when the read buffer is reused', () => {
    const parser = new ReplyParser();
    const shared = Buffer.alloc(64);
    const frame = Buffer.from('>4\r\n$4\r\nwake\r\n$5\r\ntoken\r\n$2\r\n42\r\n:7\r\n');
    frame.copy(shared, 0, 0, 20);
    parser.feed(shared.subarray(0, 20));
    assert.equal(parser.next(), null);
    parser.retain(shared.buffer);
    shared.fill(0x2a); // the next read lands in the same buffer
    frame.copy(shared, 0, 20);
    parser.feed(shared.subarray(0, frame.length - 20));
    assert.deepEqual(parser.next(), { push: ['wake', 'token', '42', 7] });
    assert.equal(parser.next(), null);
  });

  it('maps the server’s -VALIDATION to ValidationError and refuses a bad URL or id', async () => {
    const context = { clientId: newClientId(), prefix: 'v:', onWake: () => {}, onResync: () => {} };
    const backend = await createServerBackend(url(), context);
    try {
      const request = { name: 'm', kind: 'mutex', token: 't', permits: 5, limit: 1, ttl: 1000 } as const;
      const full = { ...request, enqueue: false, waiterTtl: 1000, claimTtl: 1000, owner: '' };
      await assert.rejects(backend.acquire(full), ValidationError);
    } finally {
      await backend.close();
    }
    await assert.rejects(createServerBackend(url(), { ...context, clientId: 'has space' }), ValidationError);
    await assert.rejects(createServerBackend('holdfast://h:1/path', context), ValidationError);
    assert.deepEqual(parseServerUrl('holdfast://s%40cret@example.com'), {
      host: 'example.com',
      port: 7700,
      token: 's@cret',
    });
    assert.deepEqual(parseServerUrl('holdfast://:tok@[::1]:7701'), { host: '::1', port: 7701, token: 'tok' });
    await assert.rejects(createServerBackend('holdfast://127.0.0.1:1', context), BackendError);
  });
});

describe('holdfast:// client across a server restart', () => {
  it('loses a lease by its local deadline while the server is down, then reconnects and resyncs', async () => {
    let server = await startServer({ port: 0 });
    const hf = await connectServer(serverUrl(server), { commandTimeout: 200, waiterTtl: 60_000 });
    // Its requests wait out a reconnect: the back-off may reach 1 s while the server is down.
    const other = await connectServer(serverUrl(server), { commandTimeout: 3000 });
    try {
      const lease = await hf.mutex('held', { ttl: 600 }).tryAcquire();
      assert.ok(lease);
      const blocker = await other.mutex('wanted', { ttl: 60_000 }).tryAcquire();
      assert.ok(blocker);
      // Its safety timer (20 s) cannot fire in this test: only the resync can make it ask again.
      const waiting = hf.mutex('wanted').acquire({ wait: 10_000 });
      while (((await hf.inspect('wanted'))?.waiters.length ?? 0) === 0) await sleep(5);
      const stream = hf.watch('after:*');
      await stream.ready;
      const lost = aborted(lease.signal);
      await server.close();
      const reason = await withTimeout(lost, 2000, 'the lease to be lost at its local deadline');
      assert.ok(reason instanceof LeaseLostError);
      server = await startServer({ port: server.port });
      const granted = await withTimeout(waiting, 5000, 'the waiter to resync on the new server');
      assert.ok(granted.valid);
      const after = await other.mutex('after:1').tryAcquire();
      assert.ok(after, 'the other client reconnected too');
      const event = await withTimeout(stream.next(), 5000, 'an event on the re-subscribed watch');
      assert.equal(event.value?.name, 'after:1');
      assert.ok(after.fence > blocker.fence, 'fences still increase after the state was lost');
      await stream.return();
    } finally {
      await Promise.all([hf.close(), other.close()]);
      await server.close();
    }
  });

  it('rejects a request with BackendError when the server stays unreachable', async () => {
    const server = await startServer({ port: 0 });
    const hf = await connectServer(serverUrl(server), { commandTimeout: 200 });
    await server.close();
    try {
      await assert.rejects(hf.mutex('m').tryAcquire(), BackendError);
      await assert.rejects(hf.inspect('m'), BackendError);
    } finally {
      await hf.close();
    }
  });
});

/**
 * What guards the HTTP API: the token, the Host check of a tokenless server, each limit answered
 * with a clear error to the one caller that hit it while another carries on, and a graceful
 * shutdown that answers long-polls and ends event streams.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect as connectTcp, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { ServerLimits } from '../src/server/limits.js';
import { type RunningServer, startServer } from '../src/server/server.js';
import { withTimeout } from './helpers/wait.js';
import { EventReader, HttpApiClient, lockPath, ratePath } from './server/http-helpers.js';

async function withServer(
  options: { limits?: Partial<ServerLimits>; token?: string },
  body: (server: RunningServer, api: HttpApiClient) => Promise<void>,
): Promise<void> {
  const server = await startServer({ port: 0, httpPort: 0, ...options });
  try {
    await body(server, HttpApiClient.of(server, options.token));
  } finally {
    await server.close();
  }
}

/** Another caller, which must not have noticed anything. */
async function bystanderWorks(api: HttpApiClient): Promise<void> {
  const grant = await api.post(lockPath(`bystander:${Math.random()}`, 'acquire'), { ttl: 1000 });
  assert.equal(grant.status, 200);
}

/** A raw TCP connection to the HTTP port: what it was sent, and when it closed. */
async function rawSocket(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connectTcp({ host: '127.0.0.1', port });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => text, closed };
}

describe('HTTP API: auth', () => {
  it('requires Authorization: Bearer <token> when the server has a token', () =>
    withServer({ token: 's3cret' }, async (server, api) => {
      const anonymous = new HttpApiClient(server.httpPort ?? 0);
      const refused = await anonymous.get('/health');
      assert.deepEqual([refused.status, refused.body.error?.code], [401, 'NOAUTH']);
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer/);
      const wrong = await new HttpApiClient(server.httpPort ?? 0, 's3cre').post(lockPath('a', 'acquire'), {});
      assert.equal(wrong.status, 401);
      assert.equal((await api.get('/health')).status, 200);
      assert.equal((await api.post(lockPath('a', 'acquire'), {})).status, 200);
    }));

  it('without a token, serves only requests addressed to a loopback host (no DNS rebinding)', () =>
    withServer({}, async (server, api) => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ port: server.httpPort ?? 0, path: '/v1/health', headers: { Host: 'evil.example' } });
        req.once('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.once('error', reject).end();
      });
      assert.equal(status, 403);
      assert.equal((await api.get('/health')).status, 200);
    }));
});

describe('HTTP API: limits', () => {
  it('refuses a long-poll beyond the waiters per key with 429 LIMIT', () =>
    withServer({ limits: { maxWaitersPerKey: 1 } }, async (_server, api) => {
      await api.post(lockPath('k', 'acquire'), { ttl: 10_000 });
      const first = api.post(lockPath('k', 'acquire'), { wait: 10_000 });
      await api.untilWaiters('k', 1);
      const second = await api.post(lockPath('k', 'acquire'), { wait: 10_000 });
      assert.deepEqual([second.status, second.body.error?.code], [429, 'LIMIT']);
      await bystanderWorks(api);
      const events = await EventReader.open(api, 'r');
      const rate = (wait: number) => api.post(ratePath('r'), { limit: 1, window: 10_000, wait });
      assert.equal((await rate(0)).status, 200);
      const queued = rate(10_000);
      await events.next('waiting', 'r');
      const beyond = await rate(10_000);
      assert.deepEqual([beyond.status, beyond.body.error?.code], [429, 'LIMIT']);
      events.close();
      void queued.catch(() => {});
      void first.catch(() => {});
    }));

  it('refuses long-polls beyond the waiters of one client address with 429 LIMIT', () =>
    withServer({ limits: { maxWaitersPerConnection: 1 } }, async (_server, api) => {
      await api.post(lockPath('a', 'acquire'), { ttl: 10_000 });
      await api.post(lockPath('b', 'acquire'), { ttl: 10_000 });
      const first = api.post(lockPath('a', 'acquire'), { wait: 10_000 });
      await api.untilWaiters('a', 1);
      const second = await api.post(lockPath('b', 'acquire'), { wait: 10_000 });
      assert.deepEqual([second.status, second.body.error?.code], [429, 'LIMIT']);
      assert.match(second.body.error?.message ?? '', /waiters/);
      void first.catch(() => {});
    }));

  it('refuses names beyond the limit per client, and event streams beyond the watches', () =>
    withServer({ limits: { maxNamesPerClient: 2, maxWatchesPerConnection: 1 } }, async (_server, api) => {
      assert.equal((await api.post(lockPath('n1', 'acquire'), {})).status, 200);
      assert.equal((await api.post(lockPath('n2', 'acquire'), {})).status, 200);
      const third = await api.post(lockPath('n3', 'acquire'), {});
      assert.deepEqual([third.status, third.body.error?.code], [429, 'LIMIT']);
      const events = await EventReader.open(api, '*');
      const again = await fetch(`${api.base}/events`);
      assert.deepEqual(
        [again.status, ((await again.json()) as { error: { code: string } }).error.code],
        [429, 'LIMIT'],
      );
      events.close();
    }));

  it('answers a request not completed in time 408, but lets a long-poll wait longer', () =>
    withServer({ limits: { slowClientTimeout: 300 } }, async (server, api) => {
      const slow = await rawSocket(server.httpPort ?? 0);
      slow.socket.write('POST /v1/locks/s/acquire HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      await withTimeout(slow.closed, 5000, 'the slow client to be cut off');
      assert.match(slow.received(), /^HTTP\/1\.1 408 .*"code":"LIMIT"/s);
      await api.post(lockPath('held', 'acquire'), { ttl: 10_000 });
      const poll = await api.post(lockPath('held', 'acquire'), { wait: 1000 });
      assert.deepEqual([poll.status, poll.body.error?.code], [409, 'LOCK_TIMEOUT']);
    }));

  it('closes a kept-alive connection left idle', () =>
    withServer({ limits: { idleTimeout: 200 } }, async (server) => {
      const idle = await rawSocket(server.httpPort ?? 0);
      idle.socket.write('GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await withTimeout(idle.closed, 5000, 'the idle connection to be closed');
      assert.match(idle.received(), /^HTTP\/1\.1 200 /);
    }));

  it('refuses connections beyond maxConnections with a 503 LIMIT', () =>
    withServer({ limits: { maxConnections: 1 } }, async (server) => {
      const first = await rawSocket(server.httpPort ?? 0);
      const second = await rawSocket(server.httpPort ?? 0);
      await withTimeout(second.closed, 5000, 'the extra connection to be closed');
      assert.match(second.received(), /^HTTP\/1\.1 503 .*too many connections/s);
      first.socket.destroy();
    }));
});

describe('HTTP API: shutdown', () => {
  it('answers long-polls 503 SHUTDOWN, ends event streams, and closes', async () => {
    const server = await startServer({ port: 0, httpPort: 0 });
    const api = HttpApiClient.of(server);
    await api.post(lockPath('busy', 'acquire'), { ttl: 10_000 });
    const waiting = api.post(lockPath('busy', 'acquire'), { wait: 10_000 });
    await api.untilWaiters('busy', 1);
    const events = await EventReader.open(api, '*');
    const closing = server.close();
    const answer = await withTimeout(waiting, 5000, 'the long-poll to be answered');
    assert.deepEqual([answer.status, answer.body.error?.code], [503, 'SHUTDOWN']);
    await withTimeout(events.ended, 5000, 'the event stream to end');
    assert.ok(events.events.some((e) => e.type === 'shutdown'));
    await withTimeout(closing, 5000, 'the server to close');
  });
});

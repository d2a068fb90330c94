/**
 * The HTTP/JSON API of the embedded server: every endpoint over fetch, long-polls woken by
 * hand-offs (from HTTP and from a holdfast:// client: one store), Server-Sent Events, the rate
 * limiter, auth, limits, shutdown, and the README's curl and Python usage run for real.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from '../../src/index.js';
import { runServerCli } from '../../src/server/index.js';
import { withTimeout } from '../helpers/wait.js';
import type { ServerBackend } from './backend.js';
import { curl, EventReader, HttpApiClient, lockPath, ratePath, run } from './http-helpers.js';
import { spawnServer } from './process.js';
import { RawClient } from './raw.js';
import { useHoldfastServer } from './world.js';

const PYTHON_CLIENT = fileURLToPath(new URL('./http-client.py', import.meta.url));

/** A fresh name per test, so tests on the one server never meet. */
const unique = (base: string): string => `${base}:${randomBytes(4).toString('hex')}`;

/** The HTTP API suite, run once per server backend (see ./backend.ts). */
export function httpSuite(backend: ServerBackend): void {
  describe(`HTTP API (${backend.kind})`, () => {
    const server = useHoldfastServer(() => ({ httpPort: 0, ...backend.options() }));
    const api = (): HttpApiClient => HttpApiClient.of(server());

    it('round-trips every lock endpoint, and says what it is', async () => {
      const health = await api().get('/health');
      const where = backend.kind === 'memory' ? 'memory, single node' : 'redis';
      assert.deepEqual([health.status, health.body.ok, health.body.state], [200, true, where]);
      assert.equal(health.body.backend, backend.kind);
      const name = unique('rt/ü x'); // a slash and non-ASCII, URL-encoded in the path
      const grant = await api().post(lockPath(name, 'acquire'), { ttl: 5000, owner: { host: 'web-1' } });
      assert.equal(grant.status, 200);
      assert.match(grant.body.token ?? '', /^[\w-]{20,}$/);
      assert.match(grant.body.fence ?? '', /^\d+$/);
      assert.equal(grant.body.ttl, 5000);
      assert.ok((grant.body.expiresAt ?? 0) > Date.now());
      const busy = await api().post(lockPath(name, 'acquire'), {});
      assert.deepEqual([busy.status, busy.body.error?.code], [409, 'LOCK_TIMEOUT']);
      const state = await api().get(lockPath(name));
      assert.equal(state.status, 200);
      const holder = state.body.holders?.[0];
      assert.deepEqual([holder?.fence, holder?.permits, holder?.owner], [grant.body.fence, 1, { host: 'web-1' }]);
      assert.deepEqual(state.body.waiters, []);
      const listed = await api().get(`/locks?pattern=${encodeURIComponent(`${name.slice(0, 6)}*`)}`);
      assert.ok(listed.body.names?.includes(name));
      const token = grant.body.token;
      const extended = await api().post(lockPath(name, 'extend'), { token, ttl: 8000 });
      assert.deepEqual([extended.status, extended.body.held, extended.body.ttl], [200, true, 8000]);
      assert.deepEqual((await api().post(lockPath(name, 'release'), { token })).body, { released: true });
      assert.deepEqual((await api().post(lockPath(name, 'release'), { token })).body, { released: false });
      const lost = await api().post(lockPath(name, 'extend'), { token, ttl: 8000 });
      assert.deepEqual([lost.status, lost.body.error?.code], [409, 'LEASE_LOST']);
      const gone = await api().get(lockPath(name));
      assert.deepEqual([gone.status, gone.body.error?.code], [404, 'NOT_FOUND']);
    });

    it('serves semaphores: permits of a limit', async () => {
      const name = unique('sem');
      const take = () => api().post(lockPath(name, 'acquire'), { ttl: 5000, limit: 2, permits: 1 });
      assert.deepEqual([(await take()).status, (await take()).status, (await take()).status], [200, 200, 409]);
      assert.equal((await api().get(lockPath(name))).body.kind, 'semaphore');
    });

    it('refuses bad input with 400 VALIDATION (and 415, 404, 405) before touching the store', async () => {
      const name = unique('bad');
      const acquire = lockPath(name, 'acquire');
      const bodies: unknown[] = [
        { ttl: 0 },
        { ttl: 1.5 },
        { ttl: '1000' },
        { ttl: 2 ** 31 },
        { wait: -1 },
        { permits: 2 },
        { limit: 0 },
        { tll: 1000 },
        { owner: 'x'.repeat(2000) },
        '[1]',
        '{"ttl": ',
      ];
      for (const body of bodies) {
        const answer = await api().post(acquire, body);
        assert.deepEqual([answer.status, answer.body.error?.code], [400, 'VALIDATION'], JSON.stringify(body));
      }
      const refusals = [
        await api().post(`/locks/${'n'.repeat(513)}/acquire`, {}),
        await api().post('/locks/%E0%A4%A/acquire', {}),
        await api().post(lockPath(name, 'extend'), { ttl: 1000 }),
        await api().post(ratePath(name), { limit: 1, window: 1000, burst: 2 }),
        await api().post(ratePath(name), { limit: 2, window: 1000, cost: 3 }),
        await api().get('/locks?pattern='),
        await api().get(`${lockPath(name)}?verbose=1`),
      ];
      for (const answer of refusals) assert.deepEqual([answer.status, answer.body.error?.code], [400, 'VALIDATION']);
      const untyped = await api().post(acquire, '{}', { headers: { 'Content-Type': 'text/plain' } });
      assert.deepEqual([untyped.status, untyped.body.error?.code], [415, 'UNSUPPORTED_MEDIA_TYPE']);
      assert.equal((await api().get('/nothing')).status, 404);
      const wrongMethod = await api().get(acquire);
      assert.deepEqual([wrongMethod.status, wrongMethod.headers.get('allow')], [405, 'POST']);
      assert.deepEqual((await api().get(`/locks?pattern=${encodeURIComponent(`${name}*`)}`)).body.names, []);
    });

    it('grants a long-poll acquire by the hand-off of another HTTP client', async () => {
      const name = unique('poll');
      const first = await api().post(lockPath(name, 'acquire'), { ttl: 10_000 });
      const waiting = api().post(lockPath(name, 'acquire'), { ttl: 10_000, wait: 10_000 });
      await api().untilWaiters(name, 1);
      await api().post(lockPath(name, 'release'), { token: first.body.token });
      const second = await withTimeout(waiting, 5000, 'the hand-off');
      assert.equal(second.status, 200);
      assert.ok(BigInt(second.body.fence ?? 0) > BigInt(first.body.fence ?? 0));
      await api().post(lockPath(name, 'release'), { token: second.body.token });
    });

    it('grants a long-poll acquire by the release of a holdfast:// client: one store', async () => {
      const name = unique('cross');
      const hf = await connect(`holdfast://127.0.0.1:${server().port}`);
      try {
        const lease = await hf.mutex(name, { ttl: 10_000 }).acquire();
        const waiting = api().post(lockPath(name, 'acquire'), { ttl: 10_000, wait: 10_000 });
        await api().untilWaiters(name, 1);
        await lease.release();
        const grant = await withTimeout(waiting, 5000, 'the hand-off');
        assert.equal(grant.status, 200);
        assert.equal((await hf.inspect(name))?.holders[0]?.fence, BigInt(grant.body.fence ?? 0));
        assert.equal(await hf.mutex(name).tryAcquire(), null, 'the HTTP holder excludes a Node client');
        await api().post(lockPath(name, 'release'), { token: grant.body.token });
        assert.ok(await hf.mutex(name).tryAcquire());
      } finally {
        await hf.close();
      }
    });

    it('answers 409 LOCK_TIMEOUT when the wait runs out, and leaves the queue', async () => {
      const name = unique('timeout');
      const holder = await api().post(lockPath(name, 'acquire'), { ttl: 10_000 });
      const late = await api().post(lockPath(name, 'acquire'), { wait: 200 });
      assert.deepEqual([late.status, late.body.error?.code], [409, 'LOCK_TIMEOUT']);
      assert.deepEqual((await api().get(lockPath(name))).body.waiters, []);
      await api().post(lockPath(name, 'release'), { token: holder.body.token });
    });

    it('takes a waiter that hangs up out of the queue, and gives it nothing', async () => {
      const name = unique('hangup');
      const events = await EventReader.open(api(), name);
      const holder = await api().post(lockPath(name, 'acquire'), { ttl: 10_000 });
      const abort = new AbortController();
      const waiting = api().post(lockPath(name, 'acquire'), { wait: 10_000 }, { signal: abort.signal });
      await events.next('waiting', name);
      abort.abort();
      await assert.rejects(waiting, { name: 'AbortError' });
      await events.next('left', name);
      assert.deepEqual((await api().get(lockPath(name))).body.waiters, []);
      await api().post(lockPath(name, 'release'), { token: holder.body.token });
      assert.equal((await api().get(lockPath(name))).status, 404, 'no grant went to the caller that left');
      events.close();
    });

    it('streams lock changes as Server-Sent Events', async () => {
      const name = unique('sse');
      const events = await EventReader.open(api(), `${name.split(':')[0]}:*`);
      assert.match(events.response.headers.get('content-type') ?? '', /^text\/event-stream/);
      const grant = await api().post(lockPath(name, 'acquire'), { ttl: 5000, owner: { job: 7 } });
      const acquired = await events.next('acquired', name);
      const { type, kind, fence, owner } = acquired.data;
      assert.deepEqual([type, kind, fence, owner], ['acquired', 'mutex', grant.body.fence, { job: 7 }]);
      await api().post(lockPath(name, 'release'), { token: grant.body.token });
      assert.equal((await events.next('released', name)).data.fence, grant.body.fence);
      events.close();
    });

    it('takes from a rate limiter: allowed, 429 with Retry-After, or waiting for a slot', async () => {
      const name = unique('rate');
      const take = (extra = {}) => api().post(ratePath(name), { limit: 2, window: 400, ...extra });
      const [a, b, c] = [await take(), await take(), await take()];
      assert.deepEqual([a.status, a.body.allowed, a.body.remaining], [200, true, 1]);
      assert.deepEqual([b.status, b.body.remaining], [200, 0]);
      assert.deepEqual([c.status, c.body.allowed, c.body.error?.code], [429, false, 'RATE_LIMITED']);
      assert.ok((c.body.retryAfter ?? 0) > 0 && (c.body.resetAt ?? 0) > Date.now() - 1000);
      assert.equal(c.headers.get('retry-after'), '1');
      const waited = await take({ wait: 5000 });
      assert.deepEqual([waited.status, waited.body.allowed], [200, true]);
      const bucket = await api().post(ratePath(unique('bucket')), {
        limit: 1,
        window: 1000,
        algorithm: 'token-bucket',
        burst: 3,
        cost: 3,
      });
      assert.deepEqual([bucket.status, bucket.body.remaining], [200, 0]);
    });

    it('keeps values: PUT and GET /v1/values/{key}, 404 when absent, the same values as VGET over RESP', async () => {
      const key = unique('val');
      const path = `/values/${encodeURIComponent(key)}`;
      const put = (body: unknown) =>
        api().call(path, {
          method: 'PUT',
          body: JSON.stringify(body),
          headers: { 'Content-Type': 'application/json' },
        });
      assert.deepEqual([(await api().get(path)).status, (await api().get(path)).body.error?.code], [404, 'NOT_FOUND']);
      assert.deepEqual((await put({ value: '{"n":1}', ttl: 60_000 })).body, { stored: true, ttl: 60_000 });
      assert.deepEqual((await api().get(path)).body, { value: '{"n":1}' });
      assert.equal((await put({ value: 7, ttl: 60_000 })).status, 400, 'a value is text');
      assert.equal((await put({ value: 'x' })).status, 400, 'a value needs a ttl');
      const raw = await RawClient.open(server().port);
      try {
        assert.equal(await raw.call('HOLDFAST.VGET', key), '{"n":1}', 'RESP and HTTP share the default namespace');
      } finally {
        raw.close();
      }
    });

    it('shows an owner as the JSON given, null when none', async () => {
      const name = unique('owners');
      const bare = await api().post(lockPath(name, 'acquire'), { ttl: 5000, limit: 2 });
      const named = await api().post(lockPath(name, 'acquire'), { ttl: 5000, limit: 2, owner: 'web-1' });
      const owners = (await api().get(lockPath(name))).body.holders?.map((h) => h.owner);
      assert.deepEqual(new Set(owners), new Set([null, 'web-1']));
      for (const grant of [bare, named]) await api().post(lockPath(name, 'release'), { token: grant.body.token });
    });

    it('answers a too-large body 413 LIMIT, and serves the next request', async () => {
      const big = JSON.stringify({ owner: 'x'.repeat(100_000) });
      const answer = await api().post(lockPath(unique('big'), 'acquire'), big);
      assert.deepEqual([answer.status, answer.body.error?.code], [413, 'LIMIT']);
      assert.equal((await api().get('/health')).status, 200);
    });

    it('works with curl, as the README shows it', async () => {
      const name = unique('curl');
      const url = `${api().base}/locks/${encodeURIComponent(name)}`;
      const json = ['-H', 'Content-Type: application/json'];
      const grant = await curl(['-X', 'POST', ...json, '-d', '{"ttl":30000,"wait":5000}', `${url}/acquire`]);
      assert.equal(grant.status, 200);
      const state = await curl([url]);
      assert.equal(state.body.holders?.[0]?.fence, grant.body.fence);
      const body = JSON.stringify({ token: grant.body.token });
      assert.deepEqual((await curl(['-X', 'POST', ...json, '-d', body, `${url}/release`])).body, { released: true });
      assert.equal((await curl([url])).status, 404);
    });

    it('works from Python with only the standard library', async () => {
      const holder = await api().post(lockPath('py:job', 'acquire'), { ttl: 30_000 });
      const script = run('python3', [PYTHON_CLIENT, api().base]);
      await api().untilWaiters('py:job', 1);
      await api().post(lockPath('py:job', 'release'), { token: holder.body.token });
      const seen = JSON.parse(await withTimeout(script, 20_000, 'the Python client')) as Record<string, unknown>;
      assert.equal(seen.status, 200);
      assert.ok(BigInt(seen.fence as string) > BigInt(holder.body.fence ?? 0));
      assert.deepEqual(seen.busy, [409, 'LOCK_TIMEOUT']);
      assert.equal(seen.released, true);
      assert.deepEqual(seen.takes, [
        [200, true],
        [200, true],
        [429, false],
      ]);
      assert.deepEqual(seen.slot, [200, 200, true]);
    });
  });

  describe(`holdfast server --http-port (${backend.kind})`, () => {
    it('serves HTTP beside RESP, says where in its banner, and refuses a bad port', async () => {
      const lines: string[] = [];
      const output = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
      assert.equal(await runServerCli(['--http-port', 'http'], output), 2);
      assert.match(lines.join('\n'), /--http-port/);
      const proc = await spawnServer(backend.args());
      try {
        const port = Number(/http: http:\/\/[^\s]+:(\d+)\/v1\//.exec(proc.output())?.[1]);
        const health = await new HttpApiClient(port).get('/health');
        assert.equal(health.body.ok, true);
        proc.child.kill('SIGTERM');
        assert.equal(await withTimeout(proc.exited, 10_000, 'the server to exit'), 0);
      } finally {
        proc.child.kill('SIGKILL');
      }
    });
  });
}

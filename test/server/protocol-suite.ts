/**
 * The server's protocol from the outside: redis-cli and a stdlib-only Python client talk to it,
 * a Node client shares its locks with them, tokens guard non-loopback binds, a SIGTERM shuts a
 * server process down gracefully.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RespValue } from '../../src/backends/server-client/resp.js';
import { BackendError, ValidationError } from '../../src/index.js';
import { isLoopback, tokenChecker } from '../../src/server/auth.js';
import { runServerCli } from '../../src/server/main.js';
import { startServer } from '../../src/server/server.js';
import { waitFor, withTimeout } from '../helpers/wait.js';
import type { ServerBackend } from './backend.js';
import { redisCli, run, spawnServer } from './process.js';
import { encode, RawClient } from './raw.js';
import { connectServer, serverUrl, useHoldfastServer } from './world.js';

const PYTHON_CLIENT = fileURLToPath(new URL('./client.py', import.meta.url));

/** The RESP protocol suite, run once per server backend (see ./backend.ts). */
export function protocolSuite(backend: ServerBackend): void {
  describe(`server protocol: other languages (${backend.kind})`, () => {
    const server = useHoldfastServer(() => backend.options());

    it('redis-cli locks, is refused while held, inspects and unlocks', async () => {
      const port = server().port;
      const [token, fence] = await redisCli(port, ['HOLDFAST.LOCK', 'cli:job', '5000']);
      assert.ok(token && token.length >= 22, `token ${token}`);
      assert.match(fence ?? '', /^\d+$/);
      assert.deepEqual(await redisCli(port, ['HOLDFAST.LOCK', 'cli:job', '5000']), [''], 'nil while held');
      const [state] = await redisCli(port, ['HOLDFAST.INSPECT', 'cli:job']);
      assert.equal(JSON.parse(state ?? '').holders[0].fence, fence);
      assert.deepEqual(await redisCli(port, ['HOLDFAST.UNLOCK', 'cli:job', token]), ['1']);
      assert.deepEqual(await redisCli(port, ['HOLDFAST.UNLOCK', 'cli:job', token]), ['0']);
      assert.deepEqual(await redisCli(port, ['PING']), ['PONG']);
    });

    it('redis-cli waits in line with WAIT and gets the lock when a Node client releases it', async () => {
      const hf = await connectServer(serverUrl(server()));
      try {
        const lease = await hf.mutex('shared').tryAcquire();
        assert.ok(lease);
        const waiting = redisCli(server().port, ['HOLDFAST.LOCK', 'shared', '5000', 'WAIT', '5000']);
        await withTimeout(
          (async () => {
            while (((await hf.inspect('shared'))?.waiters.length ?? 0) === 0)
              await new Promise((r) => setTimeout(r, 10));
          })(),
          5000,
          'redis-cli to queue',
        );
        await lease.release();
        const [token, fence] = await withTimeout(waiting, 5000, 'the hand-off to redis-cli');
        assert.ok(BigInt(fence ?? '0') > lease.fence, 'a later fence for the same name');
        assert.equal(await hf.mutex('shared').tryAcquire(), null, 'the Node client sees it held');
        assert.deepEqual(await redisCli(server().port, ['HOLDFAST.UNLOCK', 'shared', token ?? '']), ['1']);
      } finally {
        await hf.close();
      }
    });

    it('redis-cli takes from a rate limiter, and is told when to retry', async () => {
      const port = server().port;
      const take = () => redisCli(port, ['HOLDFAST.TAKE', 'cli:api', '2', '60000']);
      assert.equal((await take())[0], '1');
      assert.equal((await take())[0], '1');
      const [allowed, remaining, retryAfter, resetAt] = await take();
      assert.equal(allowed, '0');
      assert.equal(remaining, '0');
      assert.ok(Number(retryAfter) > 59_000 && Number(retryAfter) <= 60_000, `retryAfter ${retryAfter}`);
      assert.ok(Number(resetAt) > Date.now() + 59_000, `resetAt ${resetAt}`);
    });

    it('a stdlib-only Python client locks, unlocks and takes from the rate limiter', async () => {
      const out = await run('python3', [PYTHON_CLIENT, String(server().port)]);
      const result = JSON.parse(out);
      assert.equal(typeof result.token, 'string');
      assert.match(result.fence, /^\d+$/);
      assert.equal(result.busy, null);
      assert.equal(result.released, 1);
      assert.deepEqual(result.takes, [1, 1, 0]);
    });

    it('answers unknown commands, wrong arity and bad arguments with a code word, and keeps serving', async () => {
      const raw = await RawClient.open(server().port);
      try {
        const codeOf = async (...args: string[]) => {
          const reply = await raw.call(...args);
          return reply !== null && typeof reply === 'object' && 'code' in reply ? reply.code : reply;
        };
        assert.equal(await codeOf('NOPE'), 'UNKNOWN');
        assert.equal(await codeOf('HOLDFAST.LOCK', 'x'), 'VALIDATION');
        assert.equal(await codeOf('HOLDFAST.LOCK', 'x', '-5'), 'VALIDATION');
        assert.equal(await codeOf('HOLDFAST.LOCK', 'x'.repeat(600), '100'), 'VALIDATION');
        assert.equal(await codeOf('HOLDFAST.LOCK', 'x', '100', 'PERMITS', '2'), 'VALIDATION');
        assert.equal(await codeOf('HOLDFAST.WATCH', '*'), 'NOPROTO', 'events need RESP3');
        assert.equal(await codeOf('PING'), 'PONG');
      } finally {
        raw.close();
      }
    });

    it('speaks RESP3 after HELLO 3, with inline commands too, and pushes events to a watcher', async () => {
      const raw = await RawClient.open(server().port);
      try {
        const hello = await raw.call('HELLO', '3');
        assert.ok(Array.isArray(hello) && hello.includes('holdfast'));
        raw.write('PING\r\n');
        assert.equal(await raw.reply(), 'PONG');
        assert.equal(await raw.call('HOLDFAST.WATCH', 'ev:*'), 1);
        const lock = await raw.call('HOLDFAST.LOCK', 'ev:1', '1000');
        assert.ok(Array.isArray(lock));
        const push = await withTimeout(
          raw.push((p) => p[0] === 'event'),
          5000,
          'an event push',
        );
        assert.equal(push[1], 'ev:*');
        const event = JSON.parse(String(push[2]));
        assert.equal(event.type, 'acquired');
        assert.equal(event.name, 'ev:1');
        assert.equal(event.fence, lock[1]);
      } finally {
        raw.close();
      }
    });
  });

  describe(`server protocol: values, owners, pipelining (${backend.kind})`, () => {
    const server = useHoldfastServer(() => ({ ...backend.options(), limits: { maxValueBytes: 64, maxValues: 3 } }));
    const code = (reply: unknown) =>
      reply !== null && typeof reply === 'object' && 'code' in reply ? reply.code : reply;

    it('keeps values for cached(): VSET with a TTL, VGET, nil when absent, per namespace, within limits', async () => {
      const raw = await RawClient.open(server().port);
      try {
        assert.equal(await raw.call('HOLDFAST.PREFIX', `values-${backend.kind}:`), 'OK');
        assert.equal(await raw.call('HOLDFAST.VGET', 'v:none'), null);
        assert.equal(await raw.call('HOLDFAST.VSET', 'v:a', '{"n":1}', '60000'), 'OK');
        assert.equal(await raw.call('HOLDFAST.VGET', 'v:a'), '{"n":1}');
        assert.equal(code(await raw.call('HOLDFAST.VSET', 'v:a', 'x', '0')), 'VALIDATION');
        assert.equal(code(await raw.call('HOLDFAST.VSET', 'v:big', 'x'.repeat(65), '60000')), 'LIMIT');
        assert.equal(await raw.call('HOLDFAST.VSET', 'v:short', 'x', '300'), 'OK');
        await waitFor(async () => (await raw.call('HOLDFAST.VGET', 'v:short')) === null, {
          what: 'the value to expire on the backend',
        });
        assert.equal(await raw.call('HOLDFAST.VSET', 'v:b', 'b', '60000'), 'OK');
        assert.equal(await raw.call('HOLDFAST.VSET', 'v:c', 'c', '60000'), 'OK', 'the expired v:short counts no more');
        assert.equal(code(await raw.call('HOLDFAST.VSET', 'v:d', 'd', '60000')), 'LIMIT', 'a fourth value');
        assert.equal(await raw.call('HOLDFAST.VSET', 'v:a', '{"n":2}', '60000'), 'OK', 'replacing one is no more');
        assert.equal(await raw.call('HOLDFAST.VGET', 'v:a'), '{"n":2}');
      } finally {
        raw.close();
      }
    });

    it('takes an owner as JSON text only, and gives it back as a JSON value (or null) in INSPECT', async () => {
      const port = server().port;
      const refused = await redisCli(port, ['HOLDFAST.LOCK', 'own:x', '5000', 'OWNER', 'notjson']);
      assert.match(refused.join(' '), /VALIDATION/);
      const raw = await RawClient.open(port);
      try {
        const acquire = (owner: string) =>
          raw.call('HOLDFAST.ACQUIRE', 'own:y', 'mutex', `t-${owner.length}`, 1, 1, 5000, 0, 6000, 5000, owner);
        assert.equal(code(await acquire('{not json')), 'VALIDATION');
        assert.ok(Array.isArray(await raw.call('HOLDFAST.LOCK', 'own:x', '5000', 'OWNER', '{"host":"a","pid":7}')));
        const state = JSON.parse(String(await raw.call('HOLDFAST.INSPECT', 'own:x')));
        assert.deepEqual(state.holders[0].owner, { host: 'a', pid: 7 });
        assert.equal(((await acquire('')) as unknown[])[0], 1);
        const none = JSON.parse(String(await raw.call('HOLDFAST.INSPECT', 'own:y')));
        assert.equal(none.holders[0].owner, null);
      } finally {
        raw.close();
      }
    });

    it("pushes a hand-off to the connection that claimed the waiter's client id, after a reconnect", async () => {
      const port = server().port;
      const holder = await RawClient.open(port);
      const [token, fence] = (await holder.call('HOLDFAST.LOCK', 'cid:x', '10000')) as string[];
      const clientId = `client-${backend.kind}-${Date.now()}`;
      const before = await RawClient.open(port);
      await before.call('HELLO', '3');
      assert.equal(await before.call('HOLDFAST.CLIENTID', clientId), 'OK');
      const queued = await before.call('HOLDFAST.ACQUIRE', 'cid:x', 'mutex', 'tok-b', 1, 1, 10_000, 1, 6000, 6000, '');
      assert.deepEqual((queued as unknown[]).slice(0, 2), [0, 0]);
      before.close();
      await before.closed;
      const after = await RawClient.open(port);
      try {
        await after.call('HELLO', '3');
        assert.equal(await after.call('HOLDFAST.CLIENTID', clientId), 'OK');
        assert.equal(await holder.call('HOLDFAST.UNLOCK', 'cid:x', token ?? ''), 1);
        const push = await withTimeout(
          after.push((p) => p[0] === 'wake' && p[1] === 'tok-b'),
          10_000,
          'the wake-up on the new connection',
        );
        assert.ok(BigInt(String(push[2])) > BigInt(fence ?? '0'), 'it carries the grant');
        assert.deepEqual(
          await after.call('HOLDFAST.ACQUIRE', 'cid:x', 'mutex', 'tok-b', 1, 1, 10_000, 1, 6000, 6000, ''),
          [1, push[2]],
        );
        assert.equal(await after.call('HOLDFAST.RELEASE', 'cid:x', 'tok-b'), 1);
      } finally {
        holder.close();
        after.close();
      }
    });

    it('answers pipelined requests in the order they came, while each runs on the backend', async () => {
      const raw = await RawClient.open(server().port);
      try {
        raw.write(
          [
            encode(['HOLDFAST.LOCK', 'pipe:a', '5000']),
            encode(['HOLDFAST.INSPECT', 'pipe:a']),
            encode(['PING']),
            encode(['HOLDFAST.LOCK', 'pipe:a', '5000']),
            encode(['ECHO', 'last']),
          ].join(''),
        );
        const [lock, state, pong, busy, last] = [
          await raw.reply(),
          await raw.reply(),
          await raw.reply(),
          await raw.reply(),
          await raw.reply(),
        ];
        assert.ok(Array.isArray(lock));
        assert.equal(JSON.parse(String(state)).holders[0].fence, lock[1]);
        assert.deepEqual([pong, busy, last], ['PONG', null, 'last']);
      } finally {
        raw.close();
      }
    });

    it('tells the head waiter when its turn can come: in whole ms rounded up, and exactly in µs', async () => {
      const raw = await RawClient.open(server().port);
      try {
        const acquire = (token: string, enqueue: number): Promise<RespValue> =>
          raw.call('HOLDFAST.ACQUIRE', 'retry:at', 'mutex', token, 1, 1, 5000, enqueue, 6000, 5000, '');
        assert.equal(((await acquire('tok-holder', 0)) as RespValue[])[0], 1);
        const queued = await acquire('tok-waiter', 1);
        assert.ok(Array.isArray(queued) && queued.length === 5, `a fifth field: ${JSON.stringify(queued)}`);
        const [granted, position, ms, serverTime, micros] = queued as number[];
        assert.deepEqual([granted, position], [0, 0]);
        assert.ok((serverTime ?? 0) > 0, `serverTime ${serverTime}`);
        assert.ok((micros ?? 0) > 0 && (micros ?? 0) <= 5_000_000, `retryAfter ${micros} µs within the TTL`);
        assert.equal(ms, Math.ceil((micros ?? 0) / 1000), 'the ms field is the µs one rounded up');
        await raw.call('HOLDFAST.RELEASE', 'retry:at', 'tok-waiter');
        assert.equal(await raw.call('HOLDFAST.RELEASE', 'retry:at', 'tok-holder'), 1);
      } finally {
        raw.close();
      }
    });

    it('tells a rate waiter when its slot opens: whole ms, and with EXACT (protocol 2) in µs too', async () => {
      const raw = await RawClient.open(server().port);
      try {
        const hello = await raw.call('HELLO', '3');
        assert.ok(Array.isArray(hello), 'a HELLO reply');
        assert.equal(hello[hello.indexOf('version') + 1], '2', 'protocol 2');
        const take = (token: string, ...exact: string[]): Promise<RespValue> =>
          raw.call('HOLDFAST.RATETAKE', 'exact:r', 'sliding-window', 1, 60_000, 1, 1, token, 6000, ...exact);
        assert.equal(((await take('')) as RespValue[])[0], 1, 'the one slot');
        // An older client's form: the six fields it checks for, nothing more.
        const plain = await take('tok-a');
        assert.ok(Array.isArray(plain) && plain.length === 6, `six fields: ${JSON.stringify(plain)}`);
        const exact = await take('tok-a', 'EXACT');
        assert.ok(Array.isArray(exact) && exact.length === 8, `eight fields: ${JSON.stringify(exact)}`);
        const [allowed, , ms, , , position, micros, serverTime] = exact as number[];
        assert.deepEqual([allowed, position], [0, 0], 'refused, at the head');
        assert.ok((micros ?? 0) > 0 && (micros ?? 0) <= 60_000_000, `retryAfter ${micros} µs within the window`);
        assert.equal(ms, Math.ceil((micros ?? 0) / 1000), 'the ms field is the µs one rounded up');
        assert.ok((serverTime ?? -1) >= 0, `serverTime ${serverTime}`);
        assert.equal(code(await take('tok-a', 'PRECISE')), 'VALIDATION', 'EXACT or nothing');
        await raw.call('HOLDFAST.RATELEAVE', 'exact:r', 'tok-a');
      } finally {
        raw.close();
      }
    });
  });

  describe(`server protocol: authentication (${backend.kind})`, () => {
    it('refuses to bind a non-loopback address without a token', async () => {
      await assert.rejects(startServer({ host: '0.0.0.0', port: 0 }), ValidationError);
      await assert.rejects(startServer({ host: '::', port: 0 }), ValidationError);
      await assert.rejects(startServer({ host: 'example.com', port: 0 }), ValidationError);
      const lines: string[] = [];
      const output = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
      assert.equal(await runServerCli(['--host', '0.0.0.0', '--port', '0'], output), 1);
      assert.match(lines.join('\n'), /token/);
    });

    it('knows loopback addresses, and compares tokens in full', () => {
      for (const host of ['127.0.0.1', '127.8.0.1', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
        assert.equal(isLoopback(host), true, host);
      }
      for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '192.168.1.1']) {
        assert.equal(isLoopback(host), false, host);
      }
      const check = tokenChecker('s3cret');
      assert.equal(check('s3cret'), true);
      assert.equal(check('s3cre'), false);
      assert.equal(check('s3cret!'), false);
      assert.equal(check(''), false);
    });

    it('on a token-protected server, refuses everything before AUTH and a wrong token', async () => {
      const server = await startServer({ host: '0.0.0.0', port: 0, token: 'open sesame', ...backend.options() });
      try {
        const raw = await RawClient.open(server.port);
        const code = (reply: unknown) =>
          reply !== null && typeof reply === 'object' && 'code' in reply ? reply.code : reply;
        assert.equal(code(await raw.call('HOLDFAST.LOCK', 'a', '1000')), 'NOAUTH');
        assert.equal(code(await raw.call('PING')), 'NOAUTH');
        assert.equal(code(await raw.call('AUTH', 'wrong')), 'WRONGPASS');
        assert.equal(code(await raw.call('HELLO', '3', 'AUTH', 'default', 'wrong')), 'WRONGPASS');
        assert.equal(code(await raw.call('AUTH', 'default', 'open sesame')), 'OK');
        const hello = await raw.call('HELLO', '3', 'SETNAME', 'me', 'AUTH', 'default', 'open sesame');
        assert.ok(Array.isArray(hello) && hello.includes('holdfast'), 'HELLO options in any order');
        assert.ok(Array.isArray(await raw.call('HOLDFAST.LOCK', 'a', '1000')));
        raw.close();
        const guesser = await RawClient.open(server.port);
        for (let i = 0; i < 3; i++) await guesser.call('AUTH', `guess-${i}`);
        await withTimeout(guesser.closed, 5000, 'the connection to close after three wrong tokens');
        assert.deepEqual(await redisCli(server.port, ['-a', 'open sesame', '--no-auth-warning', 'PING']), ['PONG']);
        await assert.rejects(connectServer(serverUrl(server, 'wrong')), BackendError);
        const hf = await connectServer(serverUrl(server, 'open sesame'));
        const lease = await hf.mutex('m').tryAcquire();
        assert.ok(lease);
        await hf.close();
      } finally {
        await server.close();
      }
    });
  });

  describe(`server protocol: graceful shutdown (${backend.kind})`, () => {
    it('on SIGTERM stops accepting, tells clients, ends blocking commands and exits 0', async () => {
      const proc = await spawnServer(backend.args());
      try {
        if (backend.kind === 'memory') {
          assert.match(proc.output(), /in memory/);
          assert.match(proc.output(), /--backend redis:/, 'it says how to keep the state elsewhere');
        } else {
          assert.match(proc.output(), /state: in redis:\/\/127\.0\.0\.1:\d+/);
        }
        const raw = await RawClient.open(proc.port);
        await raw.call('HELLO', '3');
        await raw.call('HOLDFAST.LOCK', 'busy', '10000');
        const blocked = await RawClient.open(proc.port);
        const waiting = blocked.call('HOLDFAST.LOCK', 'busy', '10000', 'WAIT', '10000');
        const hf = await connectServer(`holdfast://127.0.0.1:${proc.port}`, { commandTimeout: 300 });
        await hf.mutex('n').tryAcquire();
        proc.child.kill('SIGTERM');
        const push = await withTimeout(
          raw.push((p) => p[0] === 'shutdown'),
          5000,
          'the shutdown push',
        );
        assert.deepEqual(push, ['shutdown']);
        const reply = await withTimeout(waiting, 5000, 'the blocked LOCK to end');
        assert.ok(reply !== null && typeof reply === 'object' && 'code' in reply && reply.code === 'SHUTDOWN');
        await withTimeout(Promise.all([raw.closed, blocked.closed]), 5000, 'clients to be disconnected');
        assert.equal(await withTimeout(proc.exited, 10_000, 'the server to exit'), 0);
        assert.match(proc.output(), /stopped/);
        await hf.close();
      } finally {
        proc.child.kill('SIGKILL');
      }
    });
  });
}

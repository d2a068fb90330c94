/**
 * DESIGN.md semantic 8: bad input is refused with a ValidationError before any I/O. Primitive
 * factories throw synchronously; calls reject. The "before any I/O" half runs against a Redis
 * client whose server has been killed: a library that sent anything first would fail with a
 * BackendError (or hang) instead.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BackendError, connect, type Holdfast, HoldfastError, ValidationError } from '../src/index.js';
import { startRedis } from './helpers/redis-server.js';
import { withTimeout } from './helpers/wait.js';

const BAD_NAMES: [string, unknown][] = [
  ['a number', 42],
  ['null', null],
  ['undefined', undefined],
  ['an object', { name: 'x' }],
  ['empty', ''],
  ['513 ASCII bytes', 'a'.repeat(513)],
  ['514 UTF-8 bytes in 257 characters', 'é'.repeat(257)],
  ['a lone high surrogate', 'a\uD800b'],
  ['a lone low surrogate', '\uDC00'],
];
const GOOD_NAMES = ['a'.repeat(512), 'é'.repeat(256), 'emoji 😀', 'with:colons/and spaces'];
const BAD_MS: [string, unknown][] = [
  ['0', 0],
  ['negative', -1],
  ['fractional', 1.5],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['2^31', 2 ** 31],
  ['a string', '100'],
];
const GOOD_MS = [1, 2 ** 31 - 1];

function isValidation(what: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ValidationError, `${what}: expected ValidationError, got ${String(error)}`);
    assert.ok(error instanceof HoldfastError);
    assert.equal(error.code, 'VALIDATION');
    assert.equal(error.name, 'ValidationError');
    return true;
  };
}

/** Rejects with a ValidationError, promptly: a hang (I/O to a dead server) fails too. */
function rejectsValidation(what: string, call: () => Promise<unknown>): Promise<void> {
  return withTimeout(assert.rejects(call(), isValidation(what)), 2000, what);
}

/** The rules that involve no connection-level option; `hf` may have a dead backend. */
function callRules(client: () => Holdfast): void {
  it('refuses bad names synchronously in mutex() and semaphore()', () => {
    for (const [what, name] of BAD_NAMES) {
      assert.throws(() => client().mutex(name as string), isValidation(`mutex name ${what}`));
      assert.throws(() => client().semaphore(name as string, { permits: 2 }), isValidation(`semaphore name ${what}`));
    }
  });

  it('refuses bad ttl, permits and unknown keys synchronously', () => {
    for (const [what, ttl] of BAD_MS) {
      assert.throws(() => client().mutex('m', { ttl: ttl as number }), isValidation(`ttl ${what}`));
      assert.throws(() => client().semaphore('s', { permits: 2, ttl: ttl as number }), isValidation(`ttl ${what}`));
    }
    for (const permits of [0, -1, 1.5, Number.NaN, '2', undefined]) {
      const options = { permits } as unknown as { permits: number };
      assert.throws(() => client().semaphore('s', options), isValidation(`semaphore permits ${String(permits)}`));
    }
    assert.throws(() => client().mutex('m', { tll: 100 } as never), isValidation('unknown mutex option'));
    assert.throws(
      () => client().semaphore('s', { permits: 2, wait: 100 } as never),
      isValidation('unknown semaphore option'),
    );
  });

  it('refuses bad wait, permits and unknown keys in acquire and tryAcquire', async () => {
    const mutex = client().mutex('m');
    const semaphore = client().semaphore('s', { permits: 3 });
    for (const [what, wait] of BAD_MS) {
      await rejectsValidation(`mutex wait ${what}`, () => mutex.acquire({ wait: wait as number }));
      await rejectsValidation(`semaphore wait ${what}`, () => semaphore.acquire({ wait: wait as number }));
      await rejectsValidation(`withLock wait ${what}`, () => mutex.withLock(() => 1, { wait: wait as number }));
    }
    for (const permits of [0, -1, 1.5, 4, '1']) {
      await rejectsValidation(`acquire permits ${permits}`, () => semaphore.acquire({ permits: permits as number }));
      await rejectsValidation(`tryAcquire permits ${permits}`, () =>
        semaphore.tryAcquire({ permits: permits as number }),
      );
    }
    await rejectsValidation('unknown acquire key', () => mutex.acquire({ wiat: 100 } as never));
    await rejectsValidation('permits on a mutex', () => mutex.acquire({ permits: 1 } as never));
    await rejectsValidation('unknown tryAcquire key', () => semaphore.tryAcquire({ wait: 100 } as never));
    await rejectsValidation('signal that is not an AbortSignal', () => mutex.acquire({ signal: {} as AbortSignal }));
  });

  it('refuses bad names in inspect, list and forceRelease', async () => {
    for (const [what, name] of BAD_NAMES) {
      await rejectsValidation(`inspect ${what}`, () => client().inspect(name as string));
      await rejectsValidation(`forceRelease ${what}`, () => client().forceRelease(name as string));
      // list() without a pattern means all names, so only defined values are bad patterns.
      if (name !== undefined) await rejectsValidation(`list ${what}`, () => client().list(name as string));
    }
  });

  it('rejects an already-aborted signal with its reason', async () => {
    const reason = new Error('gave up before asking');
    const signal = AbortSignal.abort(reason);
    let ran = false;
    const calls: [string, () => Promise<unknown>][] = [
      ['mutex.acquire', () => client().mutex('m').acquire({ signal })],
      ['semaphore.acquire', () => client().semaphore('s', { permits: 1 }).acquire({ signal })],
      [
        'withLock',
        () => {
          const fn = (): void => {
            ran = true;
          };
          return client().mutex('m').withLock(fn, { signal });
        },
      ],
    ];
    for (const [what, call] of calls) {
      await withTimeout(
        assert.rejects(call(), (e) => e === reason),
        2000,
        what,
      );
    }
    assert.equal(ran, false);
  });
}

describe('validation on memory://', () => {
  let hf: Holdfast | undefined;
  before(async () => {
    hf = await connect('memory://');
  });
  after(async () => {
    await hf?.close();
  });
  const client = (): Holdfast => {
    assert.ok(hf);
    return hf;
  };

  callRules(client);

  it('accepts names and durations at the limits', async () => {
    for (const name of GOOD_NAMES) {
      const lease = await client().mutex(name).tryAcquire();
      assert.ok(lease, `name of ${Buffer.byteLength(name)} bytes`);
      await lease.release();
    }
    for (const ttl of GOOD_MS) {
      const lease = await client().mutex('m', { ttl }).tryAcquire();
      assert.ok(lease, `ttl ${ttl}`);
      await lease.release();
    }
  });

  it('refuses bad extend durations and keeps the lease', async () => {
    const lease = await client().mutex('m').tryAcquire();
    assert.ok(lease);
    for (const [what, ms] of BAD_MS) await assert.rejects(lease.extend(ms as number), isValidation(`extend ${what}`));
    assert.equal(lease.valid, true);
    assert.equal(await lease.release(), true);
  });

  it('refuses unknown URL schemes, malformed targets and unknown connect options', async () => {
    for (const target of ['ftp://x', 'http://localhost:6379', 'memory', 'localhost:6379', '']) {
      await assert.rejects(connect(target), isValidation(`connect(${JSON.stringify(target)})`));
    }
    await assert.rejects(connect({} as never), isValidation('connect({})'));
    await assert.rejects(connect('memory://', { bogus: 1 } as never), isValidation('unknown connect option'));
  });
});

describe('validation happens before any I/O (redis with its server gone)', () => {
  let hf: Holdfast | undefined;
  let stopServer: (() => Promise<void>) | undefined;
  before(async () => {
    const redis = await startRedis();
    stopServer = () => redis.stop();
    hf = await connect(redis.url, { prefix: 'validation:' });
    await redis.kill(); // from here on, any command would fail or hang
  });
  after(async () => {
    // The client may try to reach the dead server while closing; do not let that hang the file.
    if (hf) await withTimeout(hf.close(), 10_000, 'close of a client whose server is gone').catch(() => {});
    await stopServer?.();
  });

  callRules(() => {
    assert.ok(hf);
    return hf;
  });

  it('(control) a valid call does try the dead server and fails with BackendError', async () => {
    assert.ok(hf);
    await withTimeout(assert.rejects(hf.mutex('m').tryAcquire(), BackendError), 10_000, 'the BackendError');
  });
});

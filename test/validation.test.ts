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
      ['rwlock.read.acquire', () => client().rwlock('rw').read.acquire({ signal })],
      ['rwlock.write.acquire', () => client().rwlock('rw').write.acquire({ signal })],
      ['rateLimiter.take', () => client().rateLimiter('r', { limit: 1, window: 100 }).take(1, { signal })],
      ['election.campaign', () => client().election('e').campaign({ signal })],
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

const BAD_OWNERS: [string, unknown][] = [
  ['a bigint', 1n],
  ['a nested bigint', { pid: 1n }],
  ['a function', () => 1],
  ['a symbol', Symbol('owner')],
  [
    'a cycle',
    (() => {
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      return cycle;
    })(),
  ],
  ['1025 bytes of JSON', 'x'.repeat(1023)],
];
const BAD_COUNTS: unknown[] = [0, -1, 1.5, Number.NaN, '3', 1_000_001];

/** rwlock, rateLimiter, election, watch and the `owner` option. */
function newPrimitiveRules(client: () => Holdfast): void {
  it('refuses bad rwlock and election names and options synchronously', () => {
    for (const [what, name] of BAD_NAMES) {
      assert.throws(() => client().rwlock(name as string), isValidation(`rwlock name ${what}`));
      assert.throws(() => client().election(name as string), isValidation(`election name ${what}`));
      assert.throws(() => client().rateLimiter(name as string, { limit: 1, window: 100 }), isValidation(what));
    }
    for (const [what, ttl] of BAD_MS) {
      assert.throws(() => client().rwlock('rw', { ttl: ttl as number }), isValidation(`rwlock ttl ${what}`));
      assert.throws(() => client().election('e', { ttl: ttl as number }), isValidation(`election ttl ${what}`));
    }
    for (const autoExtend of ['yes', 1, null]) {
      const options = { autoExtend } as unknown as { autoExtend: boolean };
      assert.throws(() => client().rwlock('rw', options), isValidation(`autoExtend ${String(autoExtend)}`));
    }
    assert.throws(() => client().rwlock('rw', { permits: 2 } as never), isValidation('unknown rwlock option'));
    assert.throws(() => client().election('e', { owner: 'x' } as never), isValidation('owner on an election'));
  });

  it('refuses bad owners wherever an owner is given', async () => {
    for (const [what, owner] of BAD_OWNERS) {
      assert.throws(() => client().mutex('m', { owner: owner as string }), isValidation(`mutex owner ${what}`));
      assert.throws(() => client().rwlock('rw', { owner: owner as string }), isValidation(`rwlock owner ${what}`));
      const options = { owner: owner as string };
      await rejectsValidation(`tryAcquire owner ${what}`, () => client().mutex('m').tryAcquire(options));
      await rejectsValidation(`acquire owner ${what}`, () => client().semaphore('s', { permits: 1 }).acquire(options));
      await rejectsValidation(`read owner ${what}`, () => client().rwlock('rw').read.acquire(options));
      await rejectsValidation(`campaign value ${what}`, () =>
        client()
          .election('e')
          .campaign({ value: owner as string }),
      );
    }
  });

  it('refuses bad rate limiter options synchronously', () => {
    const make = (options: unknown) => () => client().rateLimiter('r', options as { limit: number; window: number });
    for (const options of [undefined, {}, { limit: 1 }, { window: 100 }]) {
      assert.throws(make(options), isValidation(`rateLimiter options ${JSON.stringify(options)}`));
    }
    for (const limit of BAD_COUNTS) assert.throws(make({ limit, window: 100 }), isValidation(`limit ${String(limit)}`));
    for (const [what, window] of BAD_MS) assert.throws(make({ limit: 1, window }), isValidation(`window ${what}`));
    for (const algorithm of ['leaky-bucket', '', 'SLIDING-WINDOW', null]) {
      assert.throws(make({ limit: 1, window: 100, algorithm }), isValidation(`algorithm ${String(algorithm)}`));
    }
    for (const burst of BAD_COUNTS) {
      assert.throws(make({ limit: 1, window: 100, algorithm: 'token-bucket', burst }), isValidation(`burst ${burst}`));
    }
    for (const algorithm of [undefined, 'sliding-window', 'fixed-window']) {
      assert.throws(make({ limit: 5, window: 100, algorithm, burst: 5 }), isValidation(`burst with ${algorithm}`));
    }
    assert.throws(make({ limit: 1, window: 100, wait: 5 }), isValidation('unknown rateLimiter option'));
  });

  it('refuses bad n and take options', async () => {
    const limiter = client().rateLimiter('r', { limit: 3, window: 100 });
    const bucket = client().rateLimiter('b', { limit: 5, window: 100, algorithm: 'token-bucket', burst: 2 });
    for (const n of [0, -1, 1.5, Number.NaN, '1', null, 4]) {
      await rejectsValidation(`tryTake(${String(n)})`, () => limiter.tryTake(n as number));
      await rejectsValidation(`take(${String(n)})`, () => limiter.take(n as number));
    }
    await rejectsValidation('n over the burst', () => bucket.tryTake(3));
    for (const [what, wait] of BAD_MS)
      await rejectsValidation(`take wait ${what}`, () => limiter.take(1, { wait: wait as number }));
    await rejectsValidation('unknown take option', () => limiter.take(1, { permits: 1 } as never));
    await rejectsValidation('take signal', () => limiter.take(1, { signal: {} as AbortSignal }));
  });

  it('refuses bad campaign, observe and watch options', async () => {
    const election = client().election('e');
    await rejectsValidation('unknown campaign option', () => election.campaign({ wait: 100 } as never));
    await rejectsValidation('campaign signal', () => election.campaign({ signal: {} as AbortSignal }));
    await rejectsValidation('unknown observe option', () => election.observe({ wait: 1 } as never).next());
    await rejectsValidation('observe signal', () => election.observe({ signal: 'no' as never }).next());
    for (const [what, pattern] of BAD_NAMES) {
      assert.throws(() => client().watch(pattern as string), isValidation(`watch pattern ${what}`));
    }
    assert.throws(() => client().watch('*', { bogus: 1 } as never), isValidation('unknown watch option'));
    assert.throws(() => client().watch('*', { signal: {} as AbortSignal }), isValidation('watch signal'));
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
  newPrimitiveRules(client);

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

  it('accepts owners, costs and bursts at the limits', async () => {
    const owner = 'x'.repeat(1022); // 1024 bytes as JSON
    const lease = await client().rwlock('rw', { owner }).write.tryAcquire();
    assert.ok(lease);
    assert.equal((await client().inspect('rw'))?.holders[0]?.owner, owner);
    await lease.release();
    const limiter = client().rateLimiter('r', { limit: 3, window: 100 });
    assert.equal((await limiter.tryTake(3)).allowed, true);
    const bucket = client().rateLimiter('b', { limit: 2, window: 100, algorithm: 'token-bucket', burst: 5 });
    assert.equal((await bucket.tryTake(5)).allowed, true, 'a burst larger than the limit');
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

  const dead = (): Holdfast => {
    assert.ok(hf);
    return hf;
  };
  callRules(dead);
  newPrimitiveRules(dead);

  it('(control) a valid call does try the dead server and fails with BackendError', async () => {
    assert.ok(hf);
    await withTimeout(assert.rejects(hf.mutex('m').tryAcquire(), BackendError), 10_000, 'the BackendError');
  });
});

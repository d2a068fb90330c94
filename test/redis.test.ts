/**
 * Every contract on Redis: one throw-away redis-server for this file, a fresh key prefix per
 * test, short real TTLs. Fails (never skips) when `redis-server` is not installed. Then what
 * only Redis can show: round trips per operation, connections per client, keys left behind.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { BackendError, connect, type Holdfast, LockTimeoutError } from '../src/index.js';
import { record } from './contract/events.js';
import { primitiveContracts } from './contract/primitives.js';
import { spawnChild } from './helpers/child.js';
import { untilQueued } from './helpers/queue.js';
import { waitFor, withTimeout } from './helpers/wait.js';
import { redisWorld, useRedisServer } from './helpers/world.js';

const server = useRedisServer();
const world = redisWorld(server);

primitiveContracts(world);

describe('redis specifics', () => {
  let admin: Redis | undefined;
  before(async () => {
    admin = new Redis(server().url, { maxRetriesPerRequest: 1 });
    await admin.ping();
  });
  after(() => {
    admin?.disconnect();
  });
  const redis = (): Redis => {
    assert.ok(admin);
    return admin;
  };
  /** Clients on one fresh prefix. */
  async function clients(count: number): Promise<Holdfast[]> {
    const prefix = `t-${randomBytes(6).toString('hex')}:`;
    const made: Holdfast[] = [];
    for (let i = 0; i < count; i++) made.push(await connect(server().url, { prefix }));
    return made;
  }
  const closeAll = async (hfs: readonly Holdfast[]): Promise<void> => {
    for (const hf of hfs) await hf.close();
  };

  /** Script calls the server has run so far (EVALSHA and EVAL). */
  async function scriptCalls(): Promise<number> {
    const stats = await redis().info('commandstats');
    let calls = 0;
    for (const match of stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(match[1]);
    return calls;
  }

  /** What `operation` returned, and how many script calls it made. */
  async function counted<T>(operation: () => Promise<T>): Promise<[T, number]> {
    const before = await scriptCalls();
    const value = await operation();
    return [value, (await scriptCalls()) - before];
  }

  it('runs tryAcquire, extend, release and hand-off as one script call each', async () => {
    const hfs = await clients(2);
    const [a, b] = hfs;
    assert.ok(a && b);
    try {
      await (await a.mutex('warm-up').tryAcquire())?.release(); // scripts loaded, if lazily
      const [held, acquireCalls] = await counted(() => a.mutex('m').tryAcquire());
      assert.equal(acquireCalls, 1, 'tryAcquire');
      assert.ok(held);
      assert.equal((await counted(() => held.extend(5000)))[1], 1, 'extend');
      const waiting = b.mutex('m').acquire();
      await untilQueued(a, 'm', 1, 'the waiter to queue');
      // The release hands off in the same call, and the wake-up carries the grant: the waiter
      // holds from that message, with no call of its own.
      const [, handOffCalls] = await counted(async () => {
        await held.release();
        return withTimeout(waiting, 5000, 'the hand-off');
      });
      assert.equal(handOffCalls, 1, 'release with hand-off, and nothing more');
      await (await waiting).release();
    } finally {
      await closeAll(hfs);
    }
  });

  it('tells the next head in its wake-up when its turn can come: a hand-off costs it no call', async () => {
    const hfs = await clients(3);
    const [a, b, c] = hfs;
    assert.ok(a && b && c);
    try {
      await (await a.mutex('warm-up').tryAcquire())?.release();
      const held = await a.mutex('m').tryAcquire();
      assert.ok(held);
      const first = b.mutex('m').acquire();
      await untilQueued(a, 'm', 1);
      const second = c.mutex('m').acquire();
      await untilQueued(a, 'm', 2);
      const [, calls] = await counted(async () => {
        await held.release(); // b holds; c, now the head, is told when b's claim runs out
        await (await withTimeout(first, 5000, 'the first hand-off')).release(); // c holds
        await withTimeout(second, 5000, 'the second hand-off');
        // In order after anything c sent before: a call c made on its wake-up is counted too.
        return c.inspect('m');
      });
      assert.equal(calls, 3, 'two releases with hand-off and the inspect, and no call by the woken head');
      await (await second).release();
    } finally {
      await closeAll(hfs);
    }
  });

  it('gives the lock to the next head at the expiry of a hand-off grant whose holder crashed', async () => {
    const prefix = `t-${randomBytes(6).toString('hex')}:`;
    const [a, c] = [await connect(server().url, { prefix }), await connect(server().url, { prefix })];
    const ttl = 300;
    const crashing = await spawnChild(new URL('./faults/waiter.ts', import.meta.url), [
      server().url,
      prefix,
      'm',
      String(ttl),
    ]);
    try {
      const held = await a.mutex('m').tryAcquire();
      assert.ok(held);
      await crashing.next('asking');
      await untilQueued(a, 'm', 1, 'the child to queue');
      const next = c.mutex('m').acquire();
      await untilQueued(a, 'm', 2, 'c to queue');
      await held.release();
      await crashing.next('acquired');
      await crashing.kill();
      const killedAt = performance.now();
      const lease = await withTimeout(next, 5000, 'the take-over');
      // The claim runs out within `ttl` of the kill; the safety timer would have taken 2 s.
      assert.ok(performance.now() - killedAt < 1500, 'taken over at the claim expiry, not at the safety timer');
      await lease.release();
    } finally {
      await crashing.kill();
      await Promise.all([a.close(), c.close()]);
    }
  });

  it('says where it could not connect, and why, when nothing listens there', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    await assert.rejects(connect(`redis://127.0.0.1:${closedPort}`), (error: unknown) => {
      assert.ok(error instanceof BackendError);
      assert.match(
        error.message,
        new RegExp(`connecting to Redis at 127\\.0\\.0\\.1:${closedPort} failed: .*ECONNREFUSED`),
      );
      assert.equal((error.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
      return true;
    });
  });

  it('uses at most two connections per client, however many waiters', async () => {
    const hfs = await clients(2);
    const [holder, waiter] = hfs;
    assert.ok(holder && waiter);
    const connections = async (): Promise<number> =>
      String(await redis().client('LIST'))
        .trim()
        .split('\n').length;
    try {
      const names = Array.from({ length: 20 }, (_, i) => `busy:${i}`);
      const leases = await Promise.all(names.map((name) => holder.mutex(name).tryAcquire()));
      const baseline = await connections();
      const waits = names.map((name) => assert.rejects(waiter.mutex(name).acquire({ wait: 500 }), LockTimeoutError));
      await untilQueued(holder, 'busy:19', 1, 'waiters');
      assert.equal(await connections(), baseline, 'waiting opened connections of its own');
      await withTimeout(Promise.all(waits), 5000, 'the waiters to time out');
      for (const lease of leases) await lease?.release();
    } finally {
      await closeAll(hfs);
    }
  });

  it('opens one command and one subscriber connection per client', async () => {
    const before = String(await redis().client('LIST'))
      .trim()
      .split('\n').length;
    const hfs = await clients(3);
    try {
      const after = String(await redis().client('LIST'))
        .trim()
        .split('\n').length;
      assert.ok(after - before <= 2 * hfs.length, `${after - before} connections for ${hfs.length} clients`);
    } finally {
      await closeAll(hfs);
    }
  });

  // scripts.ts sends its script calls as commands it builds itself, except on a client whose
  // options would change what ioredis sends: those go through ioredis's own evalsha.
  for (const [label, options] of [
    ['a key prefix', { keyPrefix: 'app:' }],
    ['auto-pipelining', { enableAutoPipelining: true }],
    ['friendly error stacks', { showFriendlyErrorStack: true }],
    ['none of those', {}],
  ] as const) {
    it(`works on the caller's ioredis client with ${label}`, async () => {
      const prefix = `t-${randomBytes(6).toString('hex')}:`;
      const client = new Redis(server().url, options);
      const hf = await connect({ redis: client }, { prefix });
      try {
        const [first, second] = await Promise.all([hf.mutex('m').acquire(), hf.mutex('n').acquire()]);
        assert.ok(first && second);
        const waiting = hf.mutex('m').acquire({ wait: 10_000 });
        await untilQueued(hf, 'm', 1);
        await first.release();
        const next = await waiting;
        assert.ok(next.fence > first.fence, 'handed off with a larger fence');
        const keyPrefix = 'keyPrefix' in options ? options.keyPrefix : '';
        assert.equal(
          await redis().exists(`${keyPrefix}${prefix}{m}:h`),
          1,
          "the holder's key, with the client's key prefix",
        );
        await Promise.all([next.release(), second.release()]);
        assert.equal(await redis().exists(`${keyPrefix}${prefix}{m}:h`), 0, 'gone once released');
      } finally {
        await hf.close();
        client.disconnect();
      }
    });
  }

  it('keeps a sole holder in the data hash alone, compact (a listpack) through a renewal', async () => {
    const prefix = `t-${randomBytes(6).toString('hex')}:`;
    const hf = await connect(server().url, { prefix });
    try {
      const lease = await hf.mutex('compact', { ttl: 30_000, autoExtend: false }).acquire();
      const [holders, queue, data] = [`${prefix}{compact}:h`, `${prefix}{compact}:q`, `${prefix}{compact}:d`];
      assert.equal(await redis().exists(holders, queue), 0, 'no sorted set');
      assert.equal(await redis().object('ENCODING', data), 'listpack');
      await lease.extend(60_000);
      assert.equal(await redis().object('ENCODING', data), 'listpack', 'renewed');
      const state = await hf.inspect('compact');
      assert.equal(state?.holders[0]?.fence, lease.fence);
      assert.ok((state?.holders[0]?.expiresIn ?? 0) > 30_000, 'the renewal moved its expiry');
      assert.ok((await redis().pttl(data)) > 60_000, 'the data hash outlives the renewed expiry');
      assert.equal(await lease.release(), true);
      assert.equal(await redis().hget(data, 'fence'), lease.fence.toString(), 'the bare fence stays');
    } finally {
      await hf.close();
    }
  });

  it('leaves no key without an expiry and no holder or queue key once idle', async () => {
    const prefix = `t-${randomBytes(6).toString('hex')}:`;
    const hfs = [await connect(server().url, { prefix }), await connect(server().url, { prefix })];
    const [a, b] = hfs;
    assert.ok(a && b);
    try {
      const lease = await a.mutex('m').tryAcquire();
      const permits = await a.semaphore('s', { permits: 2 }).tryAcquire({ permits: 2 });
      await assert.rejects(b.mutex('m').acquire({ wait: 100 }), LockTimeoutError);
      await assert.rejects(b.semaphore('s', { permits: 2 }).acquire({ wait: 100 }), LockTimeoutError);
      await lease?.release();
      await permits?.release();
      const keys = await redis().keys(`${prefix}*`);
      for (const key of keys) {
        assert.ok(!/:[hqw]$/.test(key), `${key} outlived its name's last holder and waiter`);
        const ttl = await redis().pttl(key);
        assert.ok(ttl > 0, `${key} has no expiry (PTTL ${ttl})`);
      }
    } finally {
      await closeAll(hfs);
    }
  });

  it('shares the client’s one subscriber connection among all its watches', async () => {
    const hfs = await clients(2);
    const [holder, watcher] = hfs;
    assert.ok(holder && watcher);
    const list = async (): Promise<string[]> =>
      String(await redis().client('LIST'))
        .trim()
        .split('\n');
    try {
      const baseline = (await list()).length;
      const patterns = ['job:1', 'job:*', '*', 'job:?', 'other'];
      const watches = await Promise.all(patterns.map((pattern) => record(watcher, pattern)));
      const observing = watcher.election('job:1').observe();
      await withTimeout(observing.next(), 5000, 'observe() to start');
      assert.equal((await list()).length, baseline, 'a watch opened a connection of its own');
      // The escaped 'job:1' of observe() is the same pattern as the first watch.
      const subscribers = (await list()).filter((line) => /\bpsub=[1-9]/.test(line));
      assert.deepEqual(
        subscribers.map((line) => /\bpsub=(\d+)/.exec(line)?.[1]),
        [String(patterns.length)],
        'one subscriber connection, one PSUBSCRIBE per distinct pattern',
      );
      const lease = await holder.mutex('job:1').tryAcquire();
      assert.ok(lease);
      for (const [i, events] of watches.entries()) {
        if (patterns[i] === 'other') continue;
        assert.equal((await events.next('acquired')).fence, lease.fence, `watch ${patterns[i]}`);
      }
      await lease.release();
      await observing.return(undefined);
      for (const events of watches) await events.close();
      await waitFor(async () => !(await list()).some((line) => /\bpsub=[1-9]/.test(line)), {
        what: 'the last watch to unsubscribe',
      });
    } finally {
      await closeAll(hfs);
    }
  });

  it('reports `expired` for a holder whose process was killed', async () => {
    const prefix = `t-${randomBytes(6).toString('hex')}:`;
    const watcher = await connect(server().url, { prefix });
    const child = await spawnChild(new URL('./faults/holder.ts', import.meta.url), [
      server().url,
      prefix,
      'job',
      '300',
      `${prefix}resource`,
    ]);
    try {
      const events = await record(watcher, 'job');
      const { fence } = await child.next<{ type: string; fence: string }>('acquired');
      await child.kill();
      const expired = await events.next('expired');
      assert.deepEqual([expired.name, expired.kind, expired.fence], ['job', 'mutex', BigInt(fence)]);
      assert.equal(await watcher.inspect('job'), null);
    } finally {
      await child.kill();
      await watcher.close();
    }
  });
});

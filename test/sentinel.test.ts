/**
 * Every contract on a primary with 2 replicas under 3 sentinels, connected through
 * `{ sentinel }` (one deployment for this file, a fresh key prefix per test); the backend
 * conformance suite on the same; the `{ sentinel }` target checked before any I/O; and
 * `waitReplicas`: acknowledgements counted, a server that refuses WAIT, too few replicas.
 * Failovers are in sentinel-failover.slow.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { nameKeys } from '../src/backends/redis/keys.js';
import {
  connect,
  type Holdfast,
  type Lease,
  LeaseLostError,
  ReplicationError,
  UnsupportedError,
  ValidationError,
} from '../src/index.js';
import { backendConformance } from './contract/backend.js';
import { primitiveContracts } from './contract/primitives.js';
import { buildCli, runCli } from './helpers/cli.js';
import { untilQueued } from './helpers/queue.js';
import type { RedisProcess } from './helpers/redis-server.js';
import { startRedis } from './helpers/redis-server.js';
import { sentinelEngine, sentinelWorld, useSentinelSet } from './helpers/sentinel-world.js';
import { aborted, withTimeout } from './helpers/wait.js';

const set = useSentinelSet();
// The CLI test runs the built binary (test/helpers/cli.ts builds it when sources changed).
before(buildCli);
const world = sentinelWorld(set);

primitiveContracts(world);

describe('backend conformance: sentinel', () => backendConformance(sentinelEngine(set)));

describe('{ sentinel } target', () => {
  const bad: [string, unknown][] = [
    ['no name', { sentinels: ['redis://127.0.0.1:26379'] }],
    ['an empty name', { name: '', sentinels: ['redis://127.0.0.1:26379'] }],
    ['no sentinels', { name: 'p', sentinels: [] }],
    ['sentinels not a list', { name: 'p', sentinels: 'redis://127.0.0.1:26379' }],
    ['a sentinel that is no URL', { name: 'p', sentinels: ['127.0.0.1:26379'] }],
    ['a rediss:// sentinel', { name: 'p', sentinels: ['rediss://127.0.0.1:26379'] }],
    ['a sentinel listed twice', { name: 'p', sentinels: ['redis://h:26379', 'redis://H:26379'] }],
    ['credentials in a sentinel URL', { name: 'p', sentinels: ['redis://:pw@127.0.0.1:26379'] }],
    ['a port out of range', { name: 'p', sentinels: ['redis://127.0.0.1:0'] }],
    ['an unknown option', { name: 'p', sentinels: ['redis://127.0.0.1:26379'], master: 'x' }],
    ['an empty password', { name: 'p', sentinels: ['redis://127.0.0.1:26379'], password: '' }],
    ['a negative db', { name: 'p', sentinels: ['redis://127.0.0.1:26379'], db: -1 }],
  ];
  for (const [what, sentinel] of bad) {
    it(`refuses ${what} with a ValidationError, before any I/O`, async () => {
      await assert.rejects(connect({ sentinel } as never), ValidationError);
    });
  }

  const badUrls = [
    'redis-sentinel://127.0.0.1:26379',
    'redis-sentinel://127.0.0.1:26379/',
    'redis-sentinel://127.0.0.1:26379/p?master=x',
    'redis-sentinel://127.0.0.1:0/p',
    'redis-sentinel://127.0.0.1:26379,127.0.0.1:26379/p',
    'redis-sentinel://127.0.0.1:26379/p?db=-1',
  ];
  for (const url of badUrls) {
    it(`refuses the URL ${url} with a ValidationError, before any I/O`, async () => {
      await assert.rejects(connect(url), ValidationError);
    });
  }

  it('takes the same target as one redis-sentinel:// URL, in connect() and the CLI’s --url', async () => {
    const { name, sentinels } = set().target;
    const url = `redis-sentinel://${sentinels.map((s) => s.replace('redis://', '')).join(',')}/${name}?db=2`;
    const prefix = `url-${randomBytes(4).toString('hex')}:`;
    const hf = await connect(url, { prefix });
    try {
      const lease = await hf.mutex('by-url', { ttl: 30_000 }).acquire();
      const admin = new Redis((await set().primary()).url, { db: 2 });
      try {
        assert.equal(await admin.exists(nameKeys(prefix, 'by-url')[3]), 1, 'the lease is in db 2 of the primary');
      } finally {
        admin.disconnect();
      }
      const cli = (...args: string[]) => runCli([...args, '--url', url, '--prefix', prefix]);
      assert.deepEqual(JSON.parse((await cli('ls', '--json')).stdout), ['by-url']);
      const state = JSON.parse((await cli('inspect', 'by-url', '--json')).stdout);
      assert.equal(state.holders[0].fence, lease.fence.toString());
      assert.equal((await cli('release', 'by-url')).stdout, 'released 1 holder of by-url\n');
      const reason = await withTimeout(aborted(lease.signal), 10_000, 'the force-released lease');
      assert.ok(reason instanceof LeaseLostError);
    } finally {
      await hf.close();
    }
  });

  it('connects through the sentinels to the primary they name, with options they pass on', async () => {
    const hf = await connect({ sentinel: { ...set().target, db: 3 } });
    try {
      const lease = await hf.mutex(`db-${randomBytes(4).toString('hex')}`).acquire();
      const admin = new Redis((await set().primary()).url, { db: 3 });
      try {
        assert.equal(
          await admin.exists(nameKeys('holdfast:', lease.name)[3]),
          1,
          'the lease is in db 3 of the primary',
        );
      } finally {
        admin.disconnect();
      }
      await lease.release();
    } finally {
      await hf.close();
    }
  });
});

describe('waitReplicas', () => {
  const clients: Holdfast[] = [];
  const prefix = `wr-${randomBytes(4).toString('hex')}:`;
  const open = async (options: { waitReplicas?: number } = {}): Promise<Holdfast> => {
    const hf = await connect({ sentinel: set().target }, { prefix, ...options });
    clients.push(hf);
    return hf;
  };
  after(async () => {
    await Promise.allSettled(clients.splice(0).map((hf) => hf.close()));
  });

  /** The replicas, and whether each already has `lease` as a holder of its name. */
  async function onReplicas(lease: Lease): Promise<boolean[]> {
    const primary = await set().primary();
    const replicas = set().nodes.filter((node) => node !== primary);
    assert.equal(replicas.length, 2);
    return Promise.all(
      replicas.map(async (node) => {
        const admin = new Redis(node.url);
        try {
          // a holder in the holders' set, or the sole holder in the data hash's `fence` (keys.ts)
          const [holders, , , data] = nameKeys(prefix, lease.name);
          if ((await admin.zscore(holders, lease.token)) !== null) return true;
          return (await admin.hget(data, 'fence'))?.split('|')[1] === lease.token;
        } finally {
          admin.disconnect();
        }
      }),
    );
  }

  it('hands a grant back only once every replica asked for has it, a hand-off included', async () => {
    const hf = await open({ waitReplicas: 2 });
    const other = await open({ waitReplicas: 2 });
    const name = `n-${randomBytes(4).toString('hex')}`;
    const first = await hf.mutex(name, { ttl: 30_000 }).acquire();
    assert.deepEqual(await onReplicas(first), [true, true], 'a grant of its own acquire');
    const waiting = other.mutex(name, { ttl: 30_000 }).acquire({ wait: 20_000 });
    await untilQueued(hf, name, 1);
    await first.release();
    const second = await waiting;
    // the releaser's script wrote this grant; the waiter's own write made WAIT cover it
    assert.deepEqual(await onReplicas(second), [true, true], 'a hand-off grant');
    assert.ok(second.fence > first.fence);
    await second.release();
  });

  it('with a replica stopped: too few acknowledge 2, the grant is released; 1 is enough', async () => {
    const hf = await open();
    const name = `n-${randomBytes(4).toString('hex')}`;
    const primary = await set().primary();
    const stopped = set().nodes.find((node) => node !== primary) as RedisProcess;
    process.kill(stopped.pid, 'SIGSTOP');
    try {
      await assert.rejects(hf.mutex(name, { waitReplicas: 2 }).tryAcquire(), (error: unknown) => {
        assert.ok(error instanceof ReplicationError, String(error));
        assert.equal(error.code, 'REPLICATION');
        assert.equal(error.reason, 'too-few');
        assert.equal(error.needed, 2);
        assert.equal(error.acknowledged, 1);
        return true;
      });
      assert.equal(await hf.inspect(name), null, 'nothing is held after the refusal');
      const lease = await hf.mutex(name, { waitReplicas: 1 }).acquire({ wait: 10_000 });
      assert.ok(lease.valid);
      await lease.release();
    } finally {
      process.kill(stopped.pid, 'SIGCONT');
    }
    await set().replicasInSync(2);
  });

  it("a hand-off counts only replicas that have the grant (the waiter's own write is what WAIT covers)", async () => {
    const holder = await open();
    const waiter = await open({ waitReplicas: 2 });
    const name = `n-${randomBytes(4).toString('hex')}`;
    const first = await holder.mutex(name, { ttl: 30_000 }).acquire();
    const waiting = waiter.mutex(name, { ttl: 30_000 }).acquire({ wait: 20_000 });
    await untilQueued(holder, name, 1);
    const primary = await set().primary();
    const stopped = set().nodes.find((node) => node !== primary) as RedisProcess;
    const admin = new Redis(primary.url);
    try {
      // Both replicas acknowledge every write so far, the waiter's own queue entry included: a
      // WAIT that counted the waiter's earlier writes would count the stopped replica too.
      await admin.set(`${prefix}probe`, '1');
      assert.equal(await admin.wait(2, 10_000), 2);
      process.kill(stopped.pid, 'SIGSTOP');
      await first.release(); // the hand-off: a write the stopped replica never gets
      await assert.rejects(waiting, (error: unknown) => {
        assert.ok(error instanceof ReplicationError, String(error));
        assert.equal(error.reason, 'too-few');
        assert.equal(error.acknowledged, 1);
        return true;
      });
      assert.equal(await holder.inspect(name), null, 'the grant was released');
    } finally {
      process.kill(stopped.pid, 'SIGCONT');
      admin.disconnect();
    }
    await set().replicasInSync(2);
  });

  it('is refused where the backend has no replicas: UnsupportedError, before any I/O', async () => {
    await assert.rejects(connect('memory://', { waitReplicas: 1 }), UnsupportedError);
    const hf = await connect('memory://');
    try {
      assert.throws(() => hf.mutex('m', { waitReplicas: 1 }), UnsupportedError);
      assert.throws(() => hf.semaphore('s', { permits: 2, waitReplicas: 1 }), UnsupportedError);
      hf.mutex('m', { waitReplicas: 0 });
    } finally {
      await hf.close();
    }
    for (const value of [-1, 1.5, '1', 1000]) {
      await assert.rejects(connect('memory://', { waitReplicas: value as number }), ValidationError);
    }
  });

  describe('a server that refuses WAIT', () => {
    let renamed: RedisProcess | undefined;
    before(async () => {
      // what managed services do; the config-file form is `rename-command WAIT ""`
      renamed = await startRedis(['--rename-command', 'WAIT', '']);
    });
    after(async () => {
      await renamed?.stop();
    });
    const refused = (error: unknown): boolean => {
      assert.ok(error instanceof ReplicationError, String(error));
      assert.equal(error.reason, 'refused');
      assert.equal(error.acknowledged, null);
      assert.match(error.message, /refused WAIT/);
      return true;
    };

    it('at connect() when the client asks for waitReplicas', async () => {
      await assert.rejects(connect(renamed?.url ?? '', { waitReplicas: 1 }), refused);
    });

    it('at the first acquire when a primitive asks for it, leaving nothing held', async () => {
      const hf = await connect(renamed?.url ?? '');
      try {
        await assert.rejects(hf.mutex('r', { waitReplicas: 1 }).tryAcquire(), refused);
        assert.equal(await hf.inspect('r'), null);
        const lease = await hf.mutex('r').acquire();
        await lease.release();
      } finally {
        await hf.close();
      }
    });

    it('when a replica is given as the primary', async () => {
      const primary = await set().primary();
      const replica = set().nodes.find((node) => node !== primary) as RedisProcess;
      await assert.rejects(connect(replica.url, { waitReplicas: 1 }), refused);
    });
  });
});

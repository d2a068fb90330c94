/**
 * The Redis backend's coalescing (src/backends/redis/coalescer.ts, scripts/batch.lua): an acquire
 * or release made while none is in flight goes out at once, the others issued in that tick as
 * one script call; each keeps its own outcome, and other commands are not overtaken by them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { nameKeys } from '../src/backends/redis/keys.js';
import { loadScripts, runScript } from '../src/backends/redis/scripts.js';
import { BackendError, connect, type Holdfast, type Mutex } from '../src/index.js';
import { useRedisServer } from './helpers/world.js';

const server = useRedisServer();

describe('redis: a call at once when none is in flight, the others of its tick as one script call', () => {
  let admin: Redis | undefined;
  let hf: Holdfast | undefined;
  let prefix = '';
  before(async () => {
    admin = new Redis(server().url, { maxRetriesPerRequest: 1 });
    prefix = `t-${randomBytes(6).toString('hex')}:`;
    hf = await connect(server().url, { prefix });
    // The scripts loaded (a first call of each meets NOSCRIPT and is sent again with EVAL).
    await (await hf.mutex('warm-up').tryAcquire())?.release();
    // Three at once: the first goes alone, the other two as a batch (batch.lua).
    const three = await Promise.all([1, 2, 3].map((i) => hf?.mutex(`warm-up:${i}`).tryAcquire()));
    await Promise.all(three.map((lease) => lease?.release()));
  });
  after(async () => {
    await hf?.close();
    admin?.disconnect();
  });
  const client = (): Holdfast => {
    assert.ok(hf);
    return hf;
  };

  /** Calls of the commands `commands` matches (INFO commandstats names) that `operation` made. */
  async function commandCalls<T>(commands: RegExp, operation: () => Promise<T>): Promise<[T, number]> {
    assert.ok(admin);
    const count = async (): Promise<number> => {
      const stats = await admin?.info('commandstats');
      let calls = 0;
      for (const match of (stats ?? '').matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)) {
        if (commands.test(match[1] ?? '')) calls += Number(match[2]);
      }
      return calls;
    };
    const before = await count();
    const value = await operation();
    return [value, (await count()) - before];
  }

  /** Script calls (EVALSHA and EVAL) that `operation` made. */
  const scriptCalls = <T>(operation: () => Promise<T>): Promise<[T, number]> =>
    commandCalls(/^(?:evalsha|eval)$/, operation);

  it('sends 20 tryAcquires, then 20 releases, as two calls each (the first at once), every one with its own outcome', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `batch:${i}`);
    const [leases, acquireCalls] = await scriptCalls(() =>
      // the last one asks for a name taken earlier in the same batch
      Promise.all([...names, 'batch:0'].map((name) => client().mutex(name).tryAcquire())),
    );
    assert.equal(acquireCalls, 2);
    const held = leases.slice(0, -1);
    assert.ok(held.every((lease) => lease !== null));
    assert.equal(leases.at(-1), null, 'batch:0 granted twice');
    assert.equal(new Set(held.map((lease) => lease?.name)).size, 20);
    const [released, releaseCalls] = await scriptCalls(() => Promise.all(held.map((lease) => lease?.release())));
    assert.equal(releaseCalls, 2);
    assert.deepEqual(released, Array(20).fill(true));
    assert.equal(await client().inspect('batch:7'), null);
  });

  it('asks Redis for the time and for pattern subscribers once per script call, not once per operation', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `shared:${i}`);
    const acquireAll = (): Promise<unknown[]> => Promise.all(names.map((name) => client().mutex(name).tryAcquire()));
    const [leases, timeCalls] = await commandCalls(/^time$/, acquireAll);
    assert.equal(timeCalls, 2);
    const release = (): Promise<unknown[]> =>
      Promise.all(leases.map((lease) => (lease as Awaited<ReturnType<Mutex['tryAcquire']>>)?.release()));
    const [released, patternCalls] = await commandCalls(/^pubsub\|numpat$/, release);
    assert.equal(patternCalls, 2);
    assert.deepEqual(released, Array(10).fill(true));
  });

  it('reads no migration probe on one Redis, and on a cluster once per script call, not once per operation', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `probed:${i}`);
    const leases = await Promise.all(names.map((name) => client().mutex(name).tryAcquire()));
    // A sole holder's release reads no other key: what EXISTS calls remain are probes.
    const [released, probes] = await commandCalls(/^exists$/, () =>
      Promise.all(leases.map((lease) => lease?.release())),
    );
    assert.deepEqual(released, Array(10).fill(true));
    assert.equal(probes, 0, 'the scripts for one Redis leave the probe out');

    // The cluster's expansion of batch.lua, run here: ten releases (of tokens nobody holds,
    // which read no other key with EXISTS) read the probe of the batch's slot once.
    assert.ok(admin);
    const { batch } = await loadScripts(true);
    const keys = names.flatMap((name) => nameKeys(prefix, name));
    const args = names.flatMap((name) => ['r', 3, prefix, name, `nobody-${name}`]);
    const [replies, clusterProbes] = await commandCalls(/^exists$/, () =>
      runScript(admin as Redis, batch, { keys, args }),
    );
    // batch.lua's flat reply: per operation 1 (ran), -1 (one value) and release.lua's 0
    assert.deepEqual(
      replies,
      names.flatMap(() => [1, -1, 0]),
    );
    assert.equal(clusterProbes, 1);
  });

  it('fails only the operation that failed: the others of its batch are granted', async () => {
    assert.ok(admin);
    // A data key of the wrong type makes the script's first read of it an error.
    await admin.set(`${prefix}{broken}:d`, 'not a hash');
    const results = await Promise.allSettled([
      client().mutex('fine:1').tryAcquire(),
      client().mutex('broken').tryAcquire(),
      client().mutex('fine:2').tryAcquire(),
    ]);
    const [first, broken, last] = results;
    assert.equal(broken?.status, 'rejected');
    assert.ok(broken?.status === 'rejected' && broken.reason instanceof BackendError, String(broken));
    assert.match(String((broken as PromiseRejectedResult).reason.message), /acquire "broken" failed: .*WRONGTYPE/);
    for (const result of [first, last]) {
      assert.equal(result?.status, 'fulfilled');
      assert.ok(result?.status === 'fulfilled' && result.value);
      assert.equal(await result.value.release(), true);
    }
  });

  it('keeps order on the connection: a command sent after a release sees it done', async () => {
    const lease = await client().mutex('ordered').tryAcquire();
    assert.ok(lease);
    const released = lease.release();
    // Sent in the same tick, after the release: it must not overtake it.
    const state = await client().inspect('ordered');
    assert.equal(state, null, `still held: ${JSON.stringify(state?.holders.length)}`);
    assert.equal(await released, true);
  });
});

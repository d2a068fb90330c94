/**
 * A rolling upgrade: clients of the previous version (0.1.0, whose lock scripts' sources are
 * kept in fixtures/0.1.0/) and of this one on the same Redis and prefix. This version keeps a name's sole
 * holder in the data hash and no sorted set (scripts/includes/sole.lua), where an older client
 * looks for a holder in the holders' set only: it must fail on such a name, never grant it a
 * second time, and the two versions must otherwise read each other's holds.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { nameKeys } from '../src/backends/redis/keys.js';
import { standaloneSourceFrom } from '../src/backends/redis/scripts.js';
import { connect, type Holdfast } from '../src/index.js';
import { waitFor } from './helpers/wait.js';
import { useRedisServer } from './helpers/world.js';

const OLD_SOURCES = fileURLToPath(new URL('./fixtures/0.1.0/', import.meta.url));

/** 0.1.0's scripts and includes, by path under scripts/ (fixtures/0.1.0/README.md). */
const OLD_FILES: Readonly<Record<string, string>> = Object.fromEntries(
  readdirSync(OLD_SOURCES, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.lua'))
    .map((path) => [path.split(sep).join('/'), readFileSync(join(OLD_SOURCES, path), 'utf8')]),
);

/** A script of 0.1.0, as its client sent it to one Redis. */
function oldScript(name: 'acquire' | 'release' | 'extend' | 'force-release'): string {
  return standaloneSourceFrom(OLD_FILES, name);
}

describe('redis: a rolling upgrade from 0.1.0', () => {
  const server = useRedisServer();
  let admin: Redis;
  let hf: Holdfast;
  const prefix = `up-${randomBytes(4).toString('hex')}:`;
  before(async () => {
    admin = new Redis(server().url);
    hf = await connect(server().url, { prefix });
  });
  after(async () => {
    await hf.close();
    admin.disconnect();
  });

  /** The previous version's acquire of a mutex, as its client sent it (acquire-args.ts). */
  function oldAcquire(name: string, token: string): Promise<unknown> {
    const args = [prefix, name, token, '1', '1', '30000', '0', '30000', 'old-client', '{}', 'mutex', '30000'];
    return admin.eval(oldScript('acquire'), 4, ...nameKeys(prefix, name), ...args);
  }

  /** The previous version's release, renewal or force-release (its arguments as its client sent them). */
  function oldCall(script: 'release' | 'extend' | 'force-release', name: string, ...rest: string[]): Promise<unknown> {
    return admin.eval(oldScript(script), 4, ...nameKeys(prefix, name), prefix, name, ...rest);
  }

  /** Everything Redis has about a name's lock: its four keys' types and contents. */
  async function state(name: string): Promise<unknown[]> {
    const [holders, queue, waiters, data] = nameKeys(prefix, name);
    return Promise.all([
      admin.zrange(holders, 0, -1, 'WITHSCORES'),
      admin.zrange(queue, 0, -1),
      admin.zrange(waiters, 0, -1),
      admin.hgetall(data),
    ]);
  }

  it('an older client fails on a name a newer one holds alone, and changes nothing', async () => {
    const lease = await hf.mutex('alone', { ttl: 30_000 }).acquire();
    const [holders, queue, , data] = nameKeys(prefix, 'alone');
    assert.equal(await admin.exists(holders, queue), 0, 'held in the sole form: no sorted set');
    assert.match((await admin.hget(data, 'fence')) ?? '', new RegExp(`^${lease.fence}\\|${lease.token}\\|`));
    const before = await state('alone');
    await assert.rejects(oldAcquire('alone', 'old-1'), /arithmetic/, "the older acquire's fast path stops");
    assert.deepEqual(await state('alone'), before, 'nothing written');

    // a watcher sends the older acquire down its general path, which stops as well
    const watcher = new Redis(server().url);
    try {
      await watcher.psubscribe(`${prefix}ev:*`);
      await waitFor(async () => Number(await admin.call('PUBSUB', 'NUMPAT')) > 0, { what: 'the pattern subscription' });
      await assert.rejects(oldAcquire('alone', 'old-2'), /arithmetic/, "the older acquire's general path stops");
      assert.deepEqual(await state('alone'), before, 'nothing written');
    } finally {
      watcher.disconnect();
    }
    await lease.release();
  });

  it("an older client's release, renewal and force-release leave a newer sole holder as it is", async () => {
    const lease = await hf.mutex('kept', { ttl: 30_000, autoExtend: false }).acquire();
    const before = await state('kept');
    assert.equal(await oldCall('release', 'kept', 'old-5'), 0, 'released nothing');
    assert.equal(await oldCall('extend', 'kept', 'old-5', '30000'), 0, 'renewed nothing');
    assert.equal(await oldCall('force-release', 'kept'), 0, 'found no holder to remove');
    assert.deepEqual(await state('kept'), before, 'nothing changed');
    assert.equal((await hf.inspect('kept'))?.holders[0]?.fence, lease.fence, 'still held');
    await lease.extend();
    assert.equal(await lease.release(), true);
  });

  it('an older client grants a name once the newer holder released it, above its fence', async () => {
    const lease = await hf.mutex('after', { ttl: 30_000 }).acquire();
    await lease.release();
    const reply = (await oldAcquire('after', 'old-3')) as [number, string];
    assert.equal(reply[0], 1, 'granted');
    assert.ok(BigInt(reply[1]) > lease.fence, 'a larger fence');
    assert.equal(await hf.mutex('after').tryAcquire(), null, "a newer client sees the older one's holder");
    assert.equal((await hf.inspect('after'))?.holders[0]?.fence, BigInt(reply[1]));
  });

  it("a newer client queues behind an older client's holder, which it sees in the general form", async () => {
    const reply = (await oldAcquire('mixed', 'old-4')) as [number, string];
    assert.equal(reply[0], 1);
    await assert.rejects(hf.mutex('mixed').acquire({ wait: 200 }), /LockTimeout|timed out/i);
    assert.deepEqual(await hf.list('mix*'), ['mixed']);
  });
});

/**
 * Wake-ups by sharded pub/sub on the test file's cluster (src/backends/redis/shard-wakes.ts):
 * a waiting client SSUBSCRIBEs the name's shard channel on the name's master, its waiters are
 * then woken by SPUBLISH there (asserted on the path, with a spy connection subscribed to both
 * the shard channel and the plain one), a hand-off that an older client's script publishes to
 * the marked address still reaches the waiter, the subscription follows a slot to its new
 * master, and it ends after the idle time and on close.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { slotOf } from '../../src/backends/redis/cluster.js';
import { nameKeys, shardWakeChannel, wakeChannel } from '../../src/backends/redis/keys.js';
import { connect } from '../../src/index.js';
import { newToken, request } from '../contract/backend-support.js';
import { admin, type RedisCluster } from '../helpers/redis-cluster.js';
import { waitFor, withTimeout } from '../helpers/wait.js';
import { type Opened, openClusterBackend, TIMEOUT } from './open-backend.js';

/** Messages a spy heard, in order, with the kind of pub/sub that carried each. */
interface Heard {
  readonly sharded: boolean;
  readonly channel: string;
  readonly message: string;
}

/**
 * A connection on `port` subscribed to `shard` (SSUBSCRIBE) and `plain` (SUBSCRIBE): both kinds
 * arrive on one socket in the order the server sent them. `quiet()` resolves after a PING
 * round trip, so every message sent before it has been heard.
 */
async function spy(port: number, shard: string, plain: string) {
  const redis = new Redis({ port, host: '127.0.0.1' });
  const heard: Heard[] = [];
  redis.on('smessage', (channel: string, message: string) => heard.push({ sharded: true, channel, message }));
  redis.on('message', (channel: string, message: string) => heard.push({ sharded: false, channel, message }));
  await redis.ssubscribe(shard);
  await redis.subscribe(plain);
  return {
    heard,
    quiet: async () => void (await redis.ping()),
    close: () => redis.disconnect(),
  };
}

/**
 * `holder` releases `held`, `waiter` is handed the lock for `token`: the spy heard one wake-up
 * for it, by SPUBLISH on `channel`, none by PUBLISH, with the fence the waiter was handed.
 */
async function handOffHeard(at: {
  holder: Opened;
  waiter: Opened;
  watching: Awaited<ReturnType<typeof spy>>;
  name: string;
  held: string;
  token: string;
  channel: string;
}): Promise<void> {
  const woken = at.waiter.wake(at.token);
  assert.equal(await at.holder.backend.release(at.name, at.held), true);
  const grant = await woken;
  await at.watching.quiet();
  const ours = at.watching.heard.filter((h) => h.message.startsWith(`${at.token}|`));
  assert.deepEqual(
    ours.map((h) => [h.sharded, h.channel, h.message.split('|')[1]]),
    [[true, at.channel, grant.fence.toString()]],
    'one wake-up, by SPUBLISH, none by PUBLISH, with the grant the client was handed',
  );
}

async function shardSubscribers(port: number, channel: string): Promise<number> {
  const [, count] = (await admin(port, (r) => r.call('PUBSUB', 'SHARDNUMSUB', channel))) as [string, number];
  return Number(count);
}

export function clusterShardWakes(cluster: () => RedisCluster): void {
  describe('redis cluster: wake-ups by sharded pub/sub', () => {
    const prefix = (): string => `sw-${randomBytes(6).toString('hex')}:`;
    const portOf = async (name: string, p: string): Promise<number> =>
      (await cluster().masterOf(slotOf(nameKeys(p, name)[0]))).port;

    /** Queues `token` on `name` and asks once more when told to: its address is then marked. */
    async function queueMarked(waiter: Opened, name: string, token: string): Promise<void> {
      const asked = waiter.asked(token);
      assert.equal((await waiter.backend.acquire(request(name, token, { enqueue: true }))).granted, false);
      await asked;
      assert.equal((await waiter.backend.acquire(request(name, token, { enqueue: true }))).granted, false);
    }

    it('hands a lock to a waiter by SPUBLISH on the shard channel it SSUBSCRIBEd on the name’s master', async () => {
      const p = prefix();
      const [holder, waiter] = [await openClusterBackend(cluster(), p), await openClusterBackend(cluster(), p)];
      const name = 'sharded';
      const port = await portOf(name, p);
      const channel = shardWakeChannel(p, name, waiter.clientId);
      const watching = await spy(port, channel, wakeChannel(p, waiter.clientId));
      try {
        const held = newToken();
        assert.ok((await holder.backend.acquire(request(name, held))).granted);
        const token = newToken();
        await queueMarked(waiter, name, token);
        assert.equal(await shardSubscribers(port, channel), 2, 'the waiter’s client and the spy listen there');
        const record = await admin(port, (r) => r.hget(nameKeys(p, name)[3], `w:${token}`));
        assert.ok(record?.includes(`|#${waiter.clientId}|`), `the waiter's record names its shard channel: ${record}`);
        await handOffHeard({ holder, waiter, watching, name, held, token, channel });
      } finally {
        watching.close();
        await Promise.all([holder.backend.close(), waiter.backend.close()]);
      }
    });

    it('wakes a client waiting through connect() by SPUBLISH, and unsubscribes after the idle time', async () => {
      const p = prefix();
      const [a, b] = await Promise.all([0, 1].map(() => connect({ cluster: [...cluster().urls] }, { prefix: p })));
      assert.ok(a && b);
      const name = 'client-sharded';
      const port = await portOf(name, p);
      const dataKey = nameKeys(p, name)[3];
      let watching: Awaited<ReturnType<typeof spy>> | undefined;
      try {
        const held = await a.mutex(name, { ttl: 30_000 }).acquire();
        const waiting = b.mutex(name, { ttl: 30_000 }).acquire({ wait: 30_000 });
        // The waiter asks again once its client's subscription is confirmed: its record then
        // names the shard channel, `<prefix>{name}:wake:<clientId>`.
        let clientId = '';
        await waitFor(
          async () => {
            const records = Object.values(await admin(port, (r) => r.hgetall(dataKey)));
            const marked = records.map((v) => /^\d+\|\d+\|\d+\|#([^|]+)\|/.exec(v)?.[1]).find((id) => id);
            clientId = marked ?? '';
            return clientId !== '';
          },
          { timeout: TIMEOUT, what: 'a waiter record marked for SPUBLISH' },
        );
        const channel = shardWakeChannel(p, name, clientId);
        assert.equal(await shardSubscribers(port, channel), 1, 'the waiting client listens on the name’s master');
        watching = await spy(port, channel, wakeChannel(p, clientId));
        await held.release();
        const lease = await withTimeout(waiting, TIMEOUT, 'the waiter');
        await watching.quiet();
        const grants = watching.heard.filter((h) => h.message.split('|').length === 3);
        assert.deepEqual(
          grants.map((h) => [h.sharded, h.message.split('|')[1]]),
          [[true, lease.fence.toString()]],
          'the hand-off came by SPUBLISH, with the fence the waiter holds',
        );
        await lease.release();
        await waitFor(async () => (await shardSubscribers(port, channel)) === 1, {
          timeout: 15_000,
          what: 'the idle subscription to end (only the spy left)',
        });
      } finally {
        watching?.close();
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('hears a hand-off that an older client’s script publishes to the marked address (a rolling upgrade)', async () => {
      // Scripts from before sharded wake-ups PUBLISH a marked waiter's hand-off to
      // `<prefix>wake:#<clientId>`, the address as the record names it (includes/wake.lua then).
      const p = prefix();
      const [holder, waiter] = [await openClusterBackend(cluster(), p), await openClusterBackend(cluster(), p)];
      const name = 'upgrading';
      try {
        const held = newToken();
        assert.ok((await holder.backend.acquire(request(name, held))).granted);
        const token = newToken();
        await queueMarked(waiter, name, token);
        const woken = waiter.wake(token);
        const port = await portOf(name, p);
        // Plain PUBLISH reaches every node, wherever the client's subscriber is connected.
        await admin(port, (r) => r.publish(wakeChannel(p, `#${waiter.clientId}`), `${token}|42|7`));
        assert.deepEqual(await woken, { fence: 42n, serverTime: 7 });
      } finally {
        await Promise.all([holder.backend.close(), waiter.backend.close()]);
      }
    });

    it('moves a subscription with its slot, asks the waiter again, and unsubscribes on close', async () => {
      const p = prefix();
      const [holder, waiter] = [await openClusterBackend(cluster(), p), await openClusterBackend(cluster(), p)];
      const name = 'moving';
      const slot = slotOf(nameKeys(p, name)[0]);
      const channel = shardWakeChannel(p, name, waiter.clientId);
      let closed = false;
      try {
        const held = newToken();
        assert.ok((await holder.backend.acquire(request(name, held))).granted);
        const token = newToken();
        await queueMarked(waiter, name, token);
        const from = await cluster().masterOf(slot);
        const to = (await cluster().masters()).find((m) => m.id !== from.id);
        assert.ok(to);
        const askedAfterMove = waiter.asked(token);
        await cluster().migrateSlot(slot, to);
        // Told within the slot map's refresh (or at once, when the server unsubscribed it).
        await askedAfterMove;
        assert.equal(await shardSubscribers(to.port, channel), 1, 'subscribed on the new master');
        assert.equal(await shardSubscribers(from.port, channel), 0, 'not on the old one');
        assert.equal((await waiter.backend.acquire(request(name, token, { enqueue: true }))).granted, false);
        const watching = await spy(to.port, channel, wakeChannel(p, waiter.clientId));
        try {
          await handOffHeard({ holder, waiter, watching, name, held, token, channel });
        } finally {
          watching.close();
        }
        await waiter.backend.close();
        closed = true;
        assert.equal(await shardSubscribers(to.port, channel), 0, 'unsubscribed on close');
        await cluster().settled();
      } finally {
        await Promise.all([holder.backend.close(), closed ? null : waiter.backend.close()]);
      }
    });
  });
}

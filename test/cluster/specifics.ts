/**
 * What only Redis Cluster can show, on the test file's cluster: where keys land (slots,
 * masters), names that try to steer their slot, renewals and coalesced batches across slots,
 * `list` over every master, and a hand-off whose wake-up is published on one node and heard
 * by a client subscribed on another.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { slotOf } from '../../src/backends/redis/cluster.js';
import { encodeTag, nameKeys, rateKeys, wakeChannel } from '../../src/backends/redis/keys.js';
import { connect, type Lease, LeaseLostError } from '../../src/index.js';
import { newToken, request } from '../contract/backend-support.js';
import { runCli } from '../helpers/cli.js';
import { admin, type RedisCluster } from '../helpers/redis-cluster.js';
import { aborted, withTimeout } from '../helpers/wait.js';
import { type Opened, openClusterBackend, TIMEOUT } from './open-backend.js';

export function clusterSpecifics(cluster: () => RedisCluster): void {
  describe('redis cluster specifics', () => {
    const prefix = (): string => `cl-${randomBytes(6).toString('hex')}:`;

    const openBackend = (keyPrefix: string): Promise<Opened> => openClusterBackend(cluster(), keyPrefix);

    /** Which master holds `key` now. */
    async function portOf(key: string): Promise<number> {
      return (await cluster().masterOf(slotOf(key))).port;
    }

    it('spreads names over slots and over every master, each name whole in one slot', async () => {
      const p = prefix();
      const hf = await connect({ cluster: [...cluster().urls] }, { prefix: p });
      try {
        const names = Array.from({ length: 24 }, (_, i) => `spread-${i}`);
        const leases = await Promise.all(names.map((n) => hf.mutex(n, { ttl: 30_000 }).acquire()));
        const masters = new Set<number>();
        for (const name of names) {
          const keys = nameKeys(p, name);
          assert.equal(new Set(keys.map(slotOf)).size, 1, `the keys of ${name} share a slot`);
          const port = await portOf(keys[0]);
          masters.add(port);
          // The data hash is where the slot map says: written by the script on that master.
          assert.equal(await admin(port, (r) => r.exists(keys[3])), 1, `${name}'s data hash on its master`);
        }
        assert.equal(new Set(names.map((n) => slotOf(nameKeys(p, n)[0]))).size > 12, true, 'names spread over slots');
        assert.equal(masters.size, 3, 'every master holds some of the names');
        await Promise.all(leases.map((lease) => lease.release()));
      } finally {
        await hf.close();
      }
    });

    it('keeps a name with braces or % in its own slot: it cannot steer its keys elsewhere', async () => {
      const p = prefix();
      const victim = 'victim';
      // Raw, `{victim}x`'s keys would hash on "victim" and land in the victim's slot.
      const names = ['{victim}x', 'a}b', '{', '}{', 'x{y}z', '100%', '%7B'];
      for (const name of names) {
        const slots = [...nameKeys(p, name), ...rateKeys(p, name)].map(slotOf);
        assert.equal(new Set(slots).size, 1, `every key of ${JSON.stringify(name)} in one slot`);
        assert.equal(slots[0], slotOf(encodeTag(name)), 'the slot of the whole (encoded) name');
      }
      assert.notEqual(slotOf(nameKeys(p, '{victim}x')[0]), slotOf(nameKeys(p, victim)[0]));
      assert.notEqual(encodeTag('%7B'), encodeTag('{'), 'encoding is one-to-one');
      const hf = await connect({ cluster: [...cluster().urls] }, { prefix: p });
      try {
        const leases = await Promise.all(names.map((n) => hf.mutex(n, { ttl: 30_000 }).acquire()));
        assert.deepEqual(await hf.list('*'), [...names].sort());
        assert.deepEqual(await hf.list('{*'), ['{', '{victim}x']);
        const state = await hf.inspect('{victim}x');
        assert.equal(state?.name, '{victim}x');
        assert.equal(state?.holders.length, 1);
        assert.equal(await hf.inspect(victim), null, 'the victim name was never touched');
        await Promise.all(leases.map((lease) => lease.release()));
      } finally {
        await hf.close();
      }
    });

    it('renews leases of many slots in one extendMany, each answered for its own name', async () => {
      const p = prefix();
      const a = await openBackend(p);
      try {
        const names = Array.from({ length: 20 }, (_, i) => `renew-${i}`);
        const tokens = names.map(() => newToken());
        const granted = await Promise.all(names.map((n, i) => a.backend.acquire(request(n, tokens[i] as string))));
        assert.ok(granted.every((g) => g.granted));
        assert.ok(new Set(names.map((n) => slotOf(nameKeys(p, n)[0]))).size > 10);
        // One lease gone (force-released), the others still held: only its answer is false.
        assert.equal(await a.backend.forceRelease('renew-7'), 1);
        const renewed = await a.backend.extendMany(
          names.map((name, i) => ({ name, token: tokens[i] as string, ttl: 30_000 })),
        );
        assert.deepEqual(
          renewed,
          names.map((n) => n !== 'renew-7'),
        );
        // A coalesced tick of releases across slots: each answered for its own name.
        const released = await Promise.all(names.map((n, i) => a.backend.release(n, tokens[i] as string)));
        assert.deepEqual(
          released,
          names.map((n) => n !== 'renew-7'),
        );
      } finally {
        await a.backend.close();
      }
    });

    it('lists names from every master', async () => {
      const p = prefix();
      const a = await openBackend(p);
      try {
        const names = Array.from({ length: 30 }, (_, i) => `list-${String(i).padStart(2, '0')}`);
        await Promise.all(names.map((n) => a.backend.acquire(request(n, newToken()))));
        const ports = new Set(await Promise.all(names.map((n) => portOf(nameKeys(p, n)[0]))));
        assert.equal(ports.size, 3, 'the names stand on all three masters');
        assert.deepEqual(await a.backend.list('*'), names);
        assert.deepEqual(await a.backend.list('list-1?'), names.slice(10, 20));
      } finally {
        await a.backend.close();
      }
    });

    it('hands a lock to a waiter whose client subscribes on another node than the name’s master', async () => {
      const p = prefix();
      const [holder, waiter] = [await openBackend(p), await openBackend(p)];
      try {
        // Where the waiter's client listens: the node that has its wake channel.
        const channel = wakeChannel(p, waiter.clientId);
        let listening: number | undefined;
        for (const node of cluster().nodes) {
          const [, count] = (await admin(node.port, (r) => r.call('PUBSUB', 'NUMSUB', channel))) as [string, number];
          if (Number(count) > 0) listening = node.port;
        }
        assert.ok(listening !== undefined, 'the waiter subscribes on some node');
        let name = '';
        for (let i = 0; name === ''; i++) {
          if ((await portOf(nameKeys(p, `handoff-${i}`)[0])) !== listening) name = `handoff-${i}`;
        }
        const held = newToken();
        assert.ok((await holder.backend.acquire(request(name, held))).granted);
        const token = newToken();
        // Queued with its client's plain id, and never asked again (no client engine here, even
        // when its shard subscription becomes active): the wake-up goes by PUBLISH.
        const queued = await waiter.backend.acquire(request(name, token, { enqueue: true }));
        assert.equal(queued.granted, false);
        const woken = waiter.wake(token);
        assert.equal(await holder.backend.release(name, held), true);
        const grant = await woken;
        const again = await waiter.backend.acquire(request(name, token, { enqueue: true }));
        assert.ok(again.granted && again.fence === grant.fence, 'the waiter holds with the granted fence');
      } finally {
        await Promise.all([holder.backend.close(), waiter.backend.close()]);
      }
    });

    it('runs no script half-way on a slot being migrated: a hand-off during a reshard completes whole', async () => {
      const p = prefix();
      const [holder, waiter] = [await openBackend(p), await openBackend(p)];
      try {
        const name = 'resharded';
        const slot = slotOf(nameKeys(p, name)[0]);
        const held = newToken();
        assert.ok((await holder.backend.acquire(request(name, held))).granted);
        const token = newToken();
        assert.equal((await waiter.backend.acquire(request(name, token, { enqueue: true }))).granted, false);
        const from = await cluster().masterOf(slot);
        const to = (await cluster().masters()).find((m) => m.id !== from.id);
        assert.ok(to);
        await admin(to.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id));
        await admin(from.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id));
        // Every key of the name is still on the source: the release is let in there, and its
        // hand-off empties the holders' set before adding the waiter to it. Sent now, it must
        // wait for the migration rather than stop half-way.
        const woken = waiter.wake(token);
        const released = holder.backend.release(name, held);
        const keys = (await admin(from.port, (r) => r.call('CLUSTER', 'GETKEYSINSLOT', slot, 100))) as string[];
        assert.equal(keys.length, 4, 'the name’s four keys, all on the source');
        await admin(from.port, (r) => r.call('MIGRATE', '127.0.0.1', to.port, '', 0, 10_000, 'KEYS', ...keys));
        for (const node of [to, from]) await admin(node.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id));
        assert.equal(await released, true);
        const grant = await woken;
        const state = await holder.backend.inspect(name);
        assert.deepEqual(
          state?.holders.map((h) => h.fence),
          [grant.fence],
          'one holder, the waiter',
        );
        assert.equal(state?.waiters.length, 0);
        await cluster().settled();
      } finally {
        await Promise.all([holder.backend.close(), waiter.backend.close()]);
      }
    });

    it('serves the CLI through a redis-cluster:// URL: ls over every master, inspect, release', async () => {
      const p = prefix();
      const url = `redis-cluster://${cluster()
        .nodes.slice(0, 2)
        .map((n) => `127.0.0.1:${n.port}`)
        .join(',')}`;
      const hf = await connect(url, { prefix: p });
      try {
        const names = Array.from({ length: 9 }, (_, i) => `cli-${i}`);
        const leases = await Promise.all(names.map((n) => hf.mutex(n, { ttl: 30_000 }).acquire()));
        const cli = (...args: string[]) => runCli([...args, '--url', url, '--prefix', p]);
        assert.deepEqual(JSON.parse((await cli('ls', '--json')).stdout), names);
        const state = JSON.parse((await cli('inspect', 'cli-4', '--json')).stdout);
        assert.equal(state.holders[0].fence, leases[4]?.fence.toString());
        assert.equal((await cli('release', 'cli-4')).stdout, 'released 1 holder of cli-4\n');
        const reason = await withTimeout(aborted((leases[4] as Lease).signal), TIMEOUT, 'the force-released lease');
        assert.ok(reason instanceof LeaseLostError);
        await Promise.all(leases.map((lease) => lease.release()));
      } finally {
        await hf.close();
      }
    });

    it('accepts the application’s own ioredis Cluster and leaves it open', async () => {
      const { Cluster } = await import('ioredis');
      const nodes = cluster().nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
      const own = new Cluster(nodes.slice(0, 1));
      try {
        const hf = await connect({ redis: own }, { prefix: prefix() });
        const lease = await hf.mutex('own-cluster', { ttl: 30_000 }).acquire();
        assert.equal(typeof lease.fence, 'bigint');
        await lease.release();
        await hf.close();
        assert.equal(await own.ping(), 'PONG', 'holdfast did not close the caller’s client');
      } finally {
        own.disconnect();
      }
    });
  });
}

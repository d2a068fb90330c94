/**
 * Redis Cluster under faults, on one 3-master + 3-replica cluster for this file. Processes
 * contend for one mutex (test/cluster/worker.ts) while the hot slot is migrated to another
 * master, then while its master fails over to its replica: every hold is checked (no overlap,
 * fences rise, no lost update, every write to the fenced resource accepted; wake-ups go on by
 * SPUBLISH on the new master, so the waiters' shard subscriptions followed). Then a failover
 * that loses a just-granted lease (its replica took over without it): the holder's signal
 * aborts with a LeaseLostError as soon as the client sees the slot change master. Last, a
 * master killed outright: its replica is elected, the slot serves again, and the old master
 * comes back as a replica.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { slotOf } from '../src/backends/redis/cluster.js';
import { nameKeys } from '../src/backends/redis/keys.js';
import { connect, LeaseLostError } from '../src/index.js';
import { checkHistory, describe as describeViolations, type Hold } from './helpers/checker.js';
import { type Child, type Message, spawnChildren } from './helpers/child.js';
import { admin, type ClusterNodeProcess, type RedisCluster, startRedisCluster } from './helpers/redis-cluster.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';
import { aborted, sleep, waitFor, withTimeout } from './helpers/wait.js';

const WORKERS = 4;
const ITERATIONS = 60;
const START_TIMEOUT = 60_000;
const RUN_TIMEOUT = 180_000;
const WORKER = new URL('./cluster/worker.ts', import.meta.url);

interface Done extends Message {
  readonly holds: Hold[];
  readonly afterFault: number;
  readonly refused: number;
  readonly lost: number;
  readonly errors: number;
  readonly failures: string[];
}

let cluster: RedisCluster;
let resource: RedisProcess;
before(async () => {
  [cluster, resource] = await Promise.all([startRedisCluster({ masters: 3, replicas: 1 }), startRedis()]);
});
after(async () => {
  await Promise.allSettled([cluster?.stop(), resource?.stop()]);
});

/** Runs the workers on `name`, applies `fault` once they are a quarter through, checks every hold. */
async function stressThrough(
  name: string,
  fault: (prefix: string) => Promise<void>,
  log: (line: string) => void,
): Promise<void> {
  const prefix = `cf-${randomBytes(6).toString('hex')}:`;
  const args = [cluster.urls.join(','), prefix, resource.url, name, String(ITERATIONS)];
  const children: Child[] = [];
  const check = new Redis(resource.url);
  try {
    children.push(...(await spawnChildren(WORKER, args, WORKERS)));
    assert.equal(children.length, WORKERS, 'every worker process spawned');
    await Promise.all(children.map((child) => child.next('ready', START_TIMEOUT)));
    for (const child of children) child.send({ type: 'go' });
    await Promise.all(children.map((child) => child.next('progress', RUN_TIMEOUT)));
    await fault(prefix);
    // The hot name's master after the fault: its waiters' shard subscriptions must follow it.
    const master = await cluster.masterOf(slotOf(nameKeys(prefix, name)[0]));
    const spublishedBefore = await spublishCalls(master.port);
    const watching = watchShardChannels(master.port, `${prefix}{${name}}:wake:*`);
    for (const child of children) child.send({ type: 'faulted' });
    const done = await Promise.all(children.map((child) => child.next<Done>('done', RUN_TIMEOUT)));
    const subscribedThere = await watching.stop();
    await withTimeout(Promise.all(children.map((child) => child.exited)), 10_000, 'the workers to exit');
    const holds = done.flatMap((d) => d.holds);
    const counter = Number((await check.get(`${prefix}counter`)) ?? '0');
    const sum = (field: 'afterFault' | 'refused' | 'lost' | 'errors'): number =>
      done.reduce((total, d) => total + d[field], 0);
    log(
      `${holds.length} holds, ${sum('afterFault')} after the fault, ${sum('errors')} failed commands retried, ` +
        `${sum('refused')} fenced writes refused, ${sum('lost')} leases invalid at the end of a hold`,
    );
    for (const failure of done.flatMap((d) => d.failures)) log(`retried after: ${failure}`);
    assert.ok(holds.length >= WORKERS * ITERATIONS, 'every worker made its holds');
    // Workers go on past ITERATIONS until they made some holds after the fault: all must count.
    const violations = checkHistory(holds, { capacity: 1, orderedFences: true, expected: holds.length, counter });
    assert.deepEqual(violations, [], `the history has violations:\n${describeViolations(violations)}`);
    assert.equal(sum('refused'), 0, 'the fenced resource accepted every holder’s write');
    assert.ok(sum('afterFault') >= WORKERS * 10, 'acquisitions went on after the fault');
    const spublished = (await spublishCalls(master.port)) - spublishedBefore;
    log(`${spublished} wake-ups by SPUBLISH on the new master after the fault`);
    assert.ok(subscribedThere, 'a waiting worker SSUBSCRIBEd the name’s shard channel on the new master');
    assert.ok(spublished > 0, 'waiters were woken by SPUBLISH on the new master');
  } finally {
    await Promise.all(children.map((child) => child.kill()));
    check.disconnect();
  }
}

/** SPUBLISH calls on the node at `port` so far (the scripts' included: src/backends/redis/shard-wakes.ts). */
async function spublishCalls(port: number): Promise<number> {
  const stats = await admin(port, (r) => r.info('commandstats'));
  return Number(/^cmdstat_spublish:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

/**
 * Polls PUBSUB SHARDCHANNELS `pattern` on the node at `port` until a channel shows or `stop()`
 * is called; `stop()` tells whether one showed.
 */
function watchShardChannels(port: number, pattern: string): { stop(): Promise<boolean> } {
  let seen = false;
  let polling = true;
  const poll = (async () => {
    while (polling && !seen) {
      const channels = (await admin(port, (r) => r.call('PUBSUB', 'SHARDCHANNELS', pattern))) as string[];
      seen = channels.length > 0;
      if (!seen) await sleep(5);
    }
  })();
  return {
    async stop() {
      polling = false;
      await poll;
      return seen;
    },
  };
}

/** A master other than `node`. */
async function otherMaster(node: ClusterNodeProcess): Promise<ClusterNodeProcess> {
  const other = (await cluster.masters()).find((m) => m.id !== node.id);
  assert.ok(other, 'another master');
  return other;
}

describe('redis cluster faults', () => {
  it(`the hot slot migrates to another master during a run of ${WORKERS} processes: MOVED/ASK survived`, async (t) => {
    const name = 'hot-reshard';
    await stressThrough(
      name,
      async (prefix) => {
        const slot = slotOf(nameKeys(prefix, name)[0]);
        const from = await cluster.masterOf(slot);
        const to = await otherMaster(from);
        await cluster.migrateSlot(slot, to);
        t.diagnostic(`slot ${slot} migrated from ${from.port} to ${to.port}`);
      },
      (line) => t.diagnostic(line),
    );
  });

  it(`the hot slot's master fails over to its replica during a run of ${WORKERS} processes`, async (t) => {
    const name = 'hot-failover';
    await stressThrough(
      name,
      async (prefix) => {
        const slot = slotOf(nameKeys(prefix, name)[0]);
        const from = await cluster.masterOf(slot);
        const to = await cluster.failover(from);
        t.diagnostic(`slot ${slot}: replica ${to.port} took over from ${from.port}`);
      },
      (line) => t.diagnostic(line),
    );
  });

  it('signals a lease lost in a failover (its replica took over without it) at once', async () => {
    const prefix = `cl-${randomBytes(6).toString('hex')}:`;
    const hf = await connect({ cluster: [...cluster.urls] }, { prefix });
    try {
      const lostName = 'lost-in-failover';
      const master = await cluster.masterOf(slotOf(nameKeys(prefix, lostName)[0]));
      const replica = await replicaOf(master);
      // A name on another master: its lease must not be touched.
      let keptName = '';
      for (let i = 0; keptName === ''; i++) {
        if ((await cluster.masterOf(slotOf(nameKeys(prefix, `kept-${i}`)[0]))).id !== master.id) keptName = `kept-${i}`;
      }
      // Cut the replica off: it reconnects as a user the master does not know, so nothing
      // written from now on reaches it (asynchronous replication, in its worst case).
      await admin(replica.port, async (r) => {
        await r.call('CONFIG', 'SET', 'masteruser', 'nobody-here');
        await r.call('CONFIG', 'SET', 'masterauth', 'wrong');
        await r.call('CLIENT', 'KILL', 'TYPE', 'master');
      });
      await waitFor(
        async () => /master_link_status:down/.test(await admin(replica.port, (r) => r.info('replication'))),
        {
          what: 'the replica to lose its link',
        },
      );
      // A renewal comes a third of the TTL after the grant: 20 s, well after the check below.
      const ttl = 60_000;
      const lost = await hf.mutex(lostName, { ttl }).acquire();
      const kept = await hf.mutex(keptName, { ttl }).acquire();
      await admin(replica.port, (r) => r.call('CLUSTER', 'FAILOVER', 'TAKEOVER'));
      await admin(replica.port, async (r) => {
        await r.call('CONFIG', 'SET', 'masteruser', '');
        await r.call('CONFIG', 'SET', 'masterauth', '');
      });
      const reason = await withTimeout(aborted(lost.signal), 15_000, 'the lost lease to be signalled');
      assert.ok(reason instanceof LeaseLostError, `a LeaseLostError, got ${String(reason)}`);
      assert.equal(lost.valid, false);
      assert.equal(kept.valid, true, 'the lease on another master still holds');
      // The name is free on the new master, and its next fence is still above the lost one.
      const next = await hf.mutex(lostName, { ttl }).acquire({ wait: 10_000 });
      assert.ok(next.fence > lost.fence, 'fences keep rising across the lost write');
      await Promise.all([next.release(), kept.release()]);
      await cluster.settled();
    } finally {
      await hf.close();
    }
  });

  it('a killed master: its replica takes over, the slot serves again, the master restarts as a replica', async () => {
    const prefix = `ck-${randomBytes(6).toString('hex')}:`;
    const hf = await connect({ cluster: [...cluster.urls] }, { prefix, commandTimeout: 10_000 });
    try {
      const name = 'on-a-killed-master';
      const slot = slotOf(nameKeys(prefix, name)[0]);
      const master = await cluster.masterOf(slot);
      const replica = await replicaOf(master);
      const before = await hf.mutex(name, { ttl: 30_000 }).acquire();
      await before.release();
      await cluster.kill(master);
      // The replica is elected once the others mark the master failed (node timeout 3 s).
      await waitFor(async () => (await cluster.masterOf(slot)).id === replica.id, {
        timeout: 60_000,
        interval: 100,
        what: `replica ${replica.port} to take over slot ${slot}`,
      });
      const after = await hf.mutex(name, { ttl: 30_000 }).acquire({ wait: 30_000 });
      assert.ok(after.fence > before.fence, 'the new master grants, with a fence above the last one');
      await after.release();
      await cluster.restart(master);
      const lines = String(await admin(master.port, (r) => r.call('CLUSTER', 'NODES'))).split('\n');
      assert.ok(
        lines.some((line) => line.includes('myself,slave') && line.includes(replica.id)),
        'the restarted master rejoined as a replica of the node that took over',
      );
    } finally {
      await hf.close();
    }
  });
});

async function replicaOf(master: ClusterNodeProcess): Promise<ClusterNodeProcess> {
  const lines = String(await admin(master.port, (r) => r.call('CLUSTER', 'NODES'))).split('\n');
  const fields = lines.map((line) => line.split(' ')).find((f) => f[2]?.includes('slave') && f[3] === master.id);
  const replica = cluster.nodes.find((n) => n.id === fields?.[0]);
  assert.ok(replica, `a replica of ${master.port}`);
  return replica;
}

/**
 * holdfast on a 3-member etcd cluster under faults, with processes that hold and wait, a
 * non-atomic counter and a fenced resource (a Redis hash that refuses a fence not above the
 * last): the stress checker over a run in which the leader is killed, and one in which a member
 * is cut off; a holder SIGKILLed (its waiter takes over when the cluster expires its lease:
 * measured and printed, not asserted); a holder SIGSTOPped past its TTL (its fenced write is
 * refused); the whole cluster restarted from its data dirs (fences keep increasing). And the
 * client's leader affinity: its calls go to the leader, and a hand-off whose waiter watches on
 * the leader completes when the leader is killed or cut off, after which calls go to the new one.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import { BackendError, type Holdfast } from '../src/index.js';
import { readResource } from './faults/fenced-resource.js';
import { checkHistory, describe as describeViolations, type Hold } from './helpers/checker.js';
import type { Child, Message } from './helpers/child.js';
import { type EtcdCluster, startEtcdCluster } from './helpers/etcd-cluster.js';
import { untilQueued } from './helpers/queue.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';
import { testScope } from './helpers/test-scope.js';
import { waitFor, withTimeout } from './helpers/wait.js';
import { stressKeys } from './stress/shared.js';

const WORKER = new URL('./etcd/worker.ts', import.meta.url);
const HOLDER = new URL('./etcd/holder.ts', import.meta.url);
const WORKERS = 5;
const ITERATIONS = 60;
/** Starting tsx processes on 2 shared cores takes seconds. */
const START_TIMEOUT = 60_000;
const RUN_TIMEOUT = 180_000;
/** A TTL that outlasts a process start: holders are children here. */
const CHILD_TTL = 3000;

interface Done extends Message {
  readonly holds: Hold[];
  readonly lost: number;
  readonly refused: number;
  readonly errors: number;
}

let redis: RedisProcess;
let admin: Redis;

before(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});

after(async () => {
  await admin?.quit();
  await redis?.stop();
});

/** A fresh 3-member cluster for one test, closed (with every child and client) when it ends. */
async function setUp(t: { after: (fn: () => Promise<void>) => void }): Promise<{
  cluster: EtcdCluster;
  prefix: string;
  client: () => Promise<Holdfast>;
  spawn: (script: URL, args: readonly string[]) => Promise<Child>;
}> {
  const scope = testScope(t);
  const cluster = await startEtcdCluster();
  scope.defer(() => cluster.close());
  const prefix = `etcd-fault-${randomBytes(4).toString('hex')}:`;
  return {
    cluster,
    prefix,
    client: () => scope.client(cluster.url, { prefix }),
    spawn: (script, args) => scope.spawn(script, args),
  };
}

/** Runs the workers; `fault` is called once the first of them has made a few holds. */
async function stress(
  setup: Awaited<ReturnType<typeof setUp>>,
  fault: () => Promise<void>,
  log: (line: string) => void,
): Promise<void> {
  const args = [setup.cluster.url, setup.prefix, 'stress', String(ITERATIONS), redis.url];
  const children = await Promise.all(Array.from({ length: WORKERS }, () => setup.spawn(WORKER, args)));
  await Promise.all(children.map((child) => child.next('ready', START_TIMEOUT)));
  const started = performance.now();
  for (const child of children) child.send({ type: 'go' });
  await (children[0] as Child).next('progress', RUN_TIMEOUT);
  await fault();
  const done = await Promise.all(children.map((child) => child.next<Done>('done', RUN_TIMEOUT)));
  const sum = (field: 'lost' | 'refused' | 'errors'): number => done.reduce((n, d) => n + d[field], 0);
  log(
    `${WORKERS * ITERATIONS} holds by ${WORKERS} processes in ${Math.round(performance.now() - started)} ms; ` +
      `failed calls retried: ${sum('errors')}`,
  );
  const holds = done.flatMap((d) => d.holds);
  const counter = Number(await admin.get(stressKeys(setup.prefix).counter));
  const violations = checkHistory(holds, { capacity: 1, orderedFences: true, expected: WORKERS * ITERATIONS, counter });
  assert.deepEqual(violations, [], `the history has violations:\n${describeViolations(violations)}`);
  assert.equal(sum('refused'), 0, 'the fenced resource took every holder’s write');
  assert.equal(sum('lost'), 0, 'no lease was lost inside its critical section');
}

test('stress: the etcd leader is killed mid-run; no overlap, waiters go on after the election', async (t) => {
  const setup = await setUp(t);
  await stress(
    setup,
    async () => {
      const leader = await setup.cluster.leader();
      await setup.cluster.kill(leader);
      t.diagnostic(`killed the leader, member ${leader}; new leader: member ${await setup.cluster.leader()}`);
      await setup.cluster.start(leader);
    },
    (line) => t.diagnostic(line),
  );
});

test('stress: one member is cut off from the others through the peer proxies, then healed', async (t) => {
  const setup = await setUp(t);
  await stress(
    setup,
    async () => {
      const leader = await setup.cluster.leader();
      const cut = (leader + 1) % 3;
      await setup.cluster.partition(cut);
      t.diagnostic(`cut off member ${cut} (leader: ${leader})`);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      setup.cluster.heal();
    },
    (line) => t.diagnostic(line),
  );
});

/** Txn requests each member has received so far (0 for a member that is down). */
async function txnsPerMember(cluster: EtcdCluster): Promise<number[]> {
  return Promise.all(
    cluster.members.map(async (member) => {
      if (member.pid === null) return 0;
      const text = await (await fetch(`http://${member.endpoint}/metrics`)).text();
      return Number(/^grpc_server_started_total\{[^}]*grpc_method="Txn"[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    }),
  );
}

/** Whether a few acquire+release of `hf` sent every Txn to member `leader` and none elsewhere. */
async function sendsTo(cluster: EtcdCluster, hf: Holdfast, leader: number): Promise<boolean> {
  const before = await txnsPerMember(cluster);
  for (let i = 0; i < 5; i++) await (await hf.mutex('probe').acquire()).release();
  const after = await txnsPerMember(cluster);
  return after.every((n, i) => (i === leader ? n - (before[i] ?? 0) >= 10 : n === before[i]));
}

/** A holds, B waits (its watch on the leader); `fault` strikes the leader; A releases; B holds. */
async function handOffThrough(
  setup: Awaited<ReturnType<typeof setUp>>,
  fault: (leader: number) => Promise<void>,
): Promise<void> {
  const [a, b] = [await setup.client(), await setup.client()];
  const leader = await setup.cluster.leader();
  await waitFor(() => sendsTo(setup.cluster, a, leader), { what: `calls to go to the leader, member ${leader}` });
  const held = await a.mutex('m', { ttl: CHILD_TTL }).acquire();
  // A call the cluster cannot answer during the fault (a keep-alive sent to the cut-off leader
  // times out) fails with BackendError, and is asked again, as the stress workers do.
  const next = (async () => {
    for (;;) {
      try {
        return await b.mutex('m', { ttl: CHILD_TTL }).acquire();
      } catch (error) {
        if (!(error instanceof BackendError)) throw error;
      }
    }
  })();
  await untilQueued(a, 'm', 1, 'the waiter to queue');
  await fault(leader);
  // A release the old leader could not take is retried by the client until the cluster answers.
  await held.release().catch(() => {});
  const lease = await withTimeout(next, 20_000, 'the waiter to hold after the fault');
  await lease.release();
  // An old leader cut off from the others says it leads until it notices: wait for the new one.
  let elected = leader;
  await waitFor(
    async () => {
      elected = await setup.cluster.leader();
      return elected !== leader;
    },
    { what: 'another member to lead' },
  );
  await waitFor(() => sendsTo(setup.cluster, a, elected).catch(() => false), {
    what: `calls to follow the new leader, member ${elected}`,
  });
}

test('calls and watches go to the leader and follow it when it is killed', async (t) => {
  const setup = await setUp(t);
  await handOffThrough(setup, async (leader) => {
    await setup.cluster.kill(leader);
    t.diagnostic(`killed the leader, member ${leader}`);
  });
});

test('calls and watches go to the leader and follow it when it is cut off from the others', async (t) => {
  const setup = await setUp(t);
  await handOffThrough(setup, async (leader) => {
    await setup.cluster.partition(leader);
    t.diagnostic(`cut off the leader, member ${leader}`);
  });
  setup.cluster.heal();
});

test('a SIGKILLed holder: its waiter holds when the cluster expires the holder’s lease', async (t) => {
  const setup = await setUp(t);
  const resource = `${setup.prefix}resource`;
  const holder = await setup.spawn(HOLDER, [
    setup.cluster.url,
    setup.prefix,
    'job',
    String(CHILD_TTL),
    redis.url,
    resource,
  ]);
  const held = await holder.next<Message & { fence: string }>('acquired');
  const waiter = await setup.client();
  // The cluster's own word on when it expired the lease: the deletion of the holder's key.
  const etcd = new Etcd3({ hosts: setup.cluster.members.map((m) => m.endpoint) });
  const deletions: number[] = [];
  const watcher = await etcd.watch().prefix(`${setup.prefix}lock/job/`).create();
  watcher.on('delete', () => deletions.push(performance.now()));
  try {
    const next = waiter.mutex('job', { ttl: CHILD_TTL }).acquire();
    await untilQueued(waiter, 'job', 1, 'the waiter to queue');
    await holder.kill();
    const killedAt = performance.now();
    const lease = await withTimeout(next, 15_000, 'the take-over');
    const heldAt = performance.now();
    assert.ok(lease.fence > BigInt(held.fence), 'the new holder’s fence is above the crashed one’s');
    await waitFor(() => deletions.length > 0, { what: 'the deletion of the crashed holder’s key' });
    const deletedAt = deletions[0] ?? Number.NaN;
    t.diagnostic(
      `kill → cluster expired the lease: ${Math.round(deletedAt - killedAt)} ms (its TTL: ${CHILD_TTL / 1000} s); ` +
        `expiry seen by a plain watch → waiter holds: ${(heldAt - deletedAt).toFixed(1)} ms`,
    );
    await lease.release();
  } finally {
    await watcher.cancel();
    etcd.close();
  }
});

test('a SIGSTOPped holder resumed past its TTL: its lease is lost and its fenced write refused', async (t) => {
  const setup = await setUp(t);
  const resource = `${setup.prefix}resource`;
  const holder = await setup.spawn(HOLDER, [
    setup.cluster.url,
    setup.prefix,
    'job',
    String(CHILD_TTL),
    redis.url,
    resource,
  ]);
  const held = await holder.next<Message & { fence: string; wrote: boolean }>('acquired');
  assert.equal(held.wrote, true);
  const waiter = await setup.client();
  const next = waiter.mutex('job', { ttl: CHILD_TTL }).acquire();
  await untilQueued(waiter, 'job', 1, 'the waiter to queue');
  holder.signal('SIGSTOP');
  const lease = await withTimeout(next, 15_000, 'the waiter to take over from the stopped holder');
  const { fencedWrite } = await import('./faults/fenced-resource.js');
  assert.equal(await fencedWrite(admin, resource, lease.fence, 'the new holder'), true);
  holder.signal('SIGCONT');
  holder.send({ type: 'check' });
  const checked = await holder.next<Message & { valid: boolean; leaseLost: boolean; wrote: boolean; why: string }>(
    'checked',
  );
  assert.equal(checked.valid, false, 'the resumed holder’s lease is not valid');
  assert.equal(checked.leaseLost, true, `its signal aborted with LeaseLostError (${checked.why})`);
  assert.equal(checked.wrote, false, 'the resource refused its stale fence');
  assert.equal((await readResource(admin, resource)).value, 'the new holder');
  await lease.release();
});

test('the whole cluster restarted from its data dirs: fences keep increasing', async (t) => {
  const setup = await setUp(t);
  const hf = await setup.client();
  const fences: bigint[] = [];
  for (let i = 0; i < 3; i++) {
    const lease = await hf.mutex('m').acquire({ wait: 5000 });
    fences.push(lease.fence);
    await lease.release();
  }
  await setup.cluster.restart();
  t.diagnostic('restarted every member');
  const later = await setup.client();
  for (const client of [later, hf]) {
    const lease = await withTimeout(
      client.mutex('m').acquire({ wait: 20_000 }),
      30_000,
      'an acquire after the restart',
    );
    fences.push(lease.fence);
    await lease.release();
  }
  for (let i = 1; i < fences.length; i++) {
    assert.ok((fences[i] as bigint) > (fences[i - 1] as bigint), `fences rise: ${fences.join(', ')}`);
  }
});

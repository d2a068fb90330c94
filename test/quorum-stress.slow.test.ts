/**
 * Processes contend for one quorum mutex on 5 redis-servers while two of the servers are killed
 * mid-run: no two holders overlap, every write to the fenced resource is accepted (fences rise
 * with time), and acquisitions go on after the fault.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { checkHistory, describe as describeViolations, type Hold } from './helpers/checker.js';
import { type Child, type Message, spawnChildren } from './helpers/child.js';
import { newPrefix, useRedisNodes } from './helpers/quorum.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';
import { withTimeout } from './helpers/wait.js';

const WORKERS = 4;
const ITERATIONS = 60;
const START_TIMEOUT = 60_000;
const RUN_TIMEOUT = 180_000;
const WORKER = new URL('./quorum/worker.ts', import.meta.url);

interface Done extends Message {
  readonly holds: Hold[];
  readonly afterFault: number;
  readonly refused: number;
  readonly lost: number;
}

const nodes = useRedisNodes(5);
let resource: RedisProcess;
before(async () => {
  resource = await startRedis();
});
after(async () => {
  await resource?.stop();
});

test(`mutex on a quorum of 5: ${WORKERS} processes × ${ITERATIONS}, two nodes killed mid-run`, async (t) => {
  const prefix = newPrefix();
  const args = [
    nodes()
      .map((n) => n.url)
      .join(','),
    prefix,
    resource.url,
    String(ITERATIONS),
  ];
  const children: Child[] = [];
  try {
    children.push(...(await spawnChildren(WORKER, args, WORKERS)));
    assert.equal(children.length, WORKERS, 'every worker process spawned');
    await Promise.all(children.map((child) => child.next('ready', START_TIMEOUT)));
    for (const child of children) child.send({ type: 'go' });
    await Promise.all(children.map((child) => child.next('progress', RUN_TIMEOUT)));
    await Promise.all([nodes()[0]?.kill(), nodes()[1]?.kill()]);
    for (const child of children) child.send({ type: 'killed' });
    const done = await Promise.all(children.map((child) => child.next<Done>('done', RUN_TIMEOUT)));
    await withTimeout(Promise.all(children.map((child) => child.exited)), 10_000, 'the workers to exit');
    const holds = done.flatMap((d) => d.holds);
    const admin = new Redis(resource.url);
    const counter = Number(await admin.get(`${prefix}counter`));
    await admin.quit();
    const violations = checkHistory(holds, {
      capacity: 1,
      orderedFences: true,
      expected: WORKERS * ITERATIONS,
      counter,
    });
    assert.deepEqual(violations, [], `the history has violations:\n${describeViolations(violations)}`);
    assert.equal(
      done.reduce((n, d) => n + d.refused, 0),
      0,
      'the fenced resource accepted every holder',
    );
    assert.equal(
      done.reduce((n, d) => n + d.lost, 0),
      0,
      'no lease was lost inside its critical section',
    );
    const afterFault = done.reduce((n, d) => n + d.afterFault, 0);
    assert.ok(afterFault > 0, 'acquisitions went on after two nodes died');
    t.diagnostic(`${afterFault} of ${WORKERS * ITERATIONS} acquisitions after the fault`);
  } finally {
    await Promise.all(children.map((child) => child.kill()));
    await Promise.all(nodes().map((node) => node.restartIfDown()));
  }
});

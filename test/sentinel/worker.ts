/**
 * One Sentinel stress worker: `worker.ts <target JSON> <prefix> <resourceUrl> <iterations>`.
 * Reports `ready`, waits for `go`, reports `progress` after a quarter of its iterations, and
 * from the parent's `failed-over` on counts its holds as made after the failover; it does its
 * last quarter only after that message. Inside each
 * hold it writes to a fenced resource (refused below the highest fence seen) and does a
 * non-atomic read-modify-write of a counter there, so an overlap of two holders shows; holds are
 * stamped from the resource's one INCR counter (test/stress/worker.ts says why).
 *
 * Every grant waits for both replicas (waitReplicas: 2), so the replica the sentinels promote has
 * it: without that, asynchronous replication may lose a grant in the failover, and two holders
 * then overlap (the fences would still reject the stale one's writes). A grant that could not be
 * confirmed around the failover was released; the worker asks again.
 */
import { Redis } from 'ioredis';
import { BackendError, connect, type Lease, ReplicationError } from '../../src/index.js';
import { fencedWrite } from '../faults/fenced-resource.js';
import type { Hold } from '../helpers/checker.js';
import { nextMessage, report, runChild } from '../helpers/child.js';

const [targetJson = '', prefix = '', resourceUrl = '', iterationsArg = ''] = process.argv.slice(2);
const iterations = Number(iterationsArg);
/** Long enough that no lease expires on a loaded machine: expiry is not what this tests. */
const TTL = 10_000;
const WAIT = 120_000;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

runChild(async () => {
  const hf = await connect({ sentinel: JSON.parse(targetJson) }, { prefix, waitReplicas: 2 });
  const resource = new Redis(resourceUrl);
  const stamp = (): Promise<number> => resource.incr(`${prefix}seq`);
  const mutex = hf.mutex('stress', { ttl: TTL });
  const holds: Hold[] = [];
  let afterFailover = 0;
  let refused = 0;
  let lost = 0;
  let retried = 0;
  let failedOver = false;
  const switched = nextMessage('failed-over').then(() => {
    failedOver = true;
  });
  const acquire = async (): Promise<Lease> => {
    for (;;) {
      try {
        return await mutex.acquire({ wait: WAIT });
      } catch (error) {
        // The grant was released: while a replica re-syncs after the failover too few
        // acknowledge, and a confirmation under way as the connection moves fails outright.
        const tooFew = error instanceof ReplicationError && error.reason === 'too-few';
        if (!tooFew && !(error instanceof BackendError)) throw error;
        retried++;
      }
    }
  };
  await report({ type: 'ready' });
  await nextMessage('go');
  for (let i = 0; i < iterations; i++) {
    if (i === Math.floor(iterations / 4)) await report({ type: 'progress' });
    // the last quarter waits for the failover, so holds after it are certain on any machine
    if (i === Math.floor((3 * iterations) / 4)) await switched;
    const lease = await acquire();
    const start = await stamp();
    if (!(await fencedWrite(resource, `${prefix}resource`, lease.fence, `${process.pid}#${i}`))) refused++;
    const value = Number((await resource.get(`${prefix}counter`)) ?? '0');
    await turn();
    await resource.set(`${prefix}counter`, String(value + 1));
    if (!lease.valid) lost++;
    const end = await stamp();
    // A release lost in the failover leaves the lease to expire at its TTL: slower, not unsafe.
    await lease.release().catch(() => false);
    if (failedOver) afterFailover++;
    holds.push({ fence: lease.fence.toString(), start, end, who: `${process.pid}#${i}` });
  }
  await report({ type: 'done', holds, afterFailover, refused, lost, retried });
  await hf.close();
  await resource.quit();
});

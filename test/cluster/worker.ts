/**
 * One Redis Cluster stress worker: `worker.ts <seeds,comma-separated> <prefix> <resourceUrl> <name> <iterations>`.
 * Reports `ready`, waits for `go`, reports `progress` after a quarter of its iterations, and
 * from the parent's `faulted` on counts its holds as made after the fault, going on past
 * `iterations` until it has made a few of those. Inside each hold it
 * writes to a fenced resource on a Redis apart from the cluster (a write with a fence below the
 * highest seen is refused) and does a non-atomic read-modify-write of a counter there, so an
 * overlap of two holders shows; hold start and end are stamps from one INCR counter there.
 */
import { Redis } from 'ioredis';
import { connect, type Lease } from '../../src/index.js';
import { fencedWrite } from '../faults/fenced-resource.js';
import type { Hold } from '../helpers/checker.js';
import { nextMessage, report, runChild } from '../helpers/child.js';

const [seedList = '', prefix = '', resourceUrl = '', name = '', iterationsArg = ''] = process.argv.slice(2);
const iterations = Number(iterationsArg);
/** Long enough that no lease expires on a loaded machine: expiry is not what this tests. */
const TTL = 10_000;
const WAIT = 120_000;
/** Holds each worker makes after the fault at least, however long the fault took. */
const AFTER_FAULT = 10;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

runChild(async () => {
  // A command may wait through a failover (node timeout + election) before it is answered.
  const hf = await connect({ cluster: seedList.split(',') }, { prefix, commandTimeout: 10_000 });
  const resource = new Redis(resourceUrl);
  const stamp = (): Promise<number> => resource.incr(`${prefix}seq`);
  const mutex = hf.mutex(name, { ttl: TTL });
  const holds: Hold[] = [];
  let afterFault = 0;
  let refused = 0;
  let lost = 0;
  /** Acquires and releases that failed outright (a command caught in the failover): retried. */
  let errors = 0;
  const failures: string[] = [];
  const failed = (error: unknown): void => {
    errors++;
    if (failures.length < 3) failures.push(error instanceof Error ? error.message : String(error));
  };
  let faulted = false;
  void nextMessage('faulted').then(() => {
    faulted = true;
  });
  await report({ type: 'ready' });
  await nextMessage('go');
  // At least `iterations` holds, and at least AFTER_FAULT of them once the parent's fault is done.
  for (let i = 0; i < iterations || afterFault < AFTER_FAULT; i++) {
    if (i === Math.floor(iterations / 4)) await report({ type: 'progress' });
    let lease: Lease;
    try {
      lease = await mutex.acquire({ wait: WAIT });
    } catch (error) {
      failed(error);
      i--;
      continue;
    }
    const start = await stamp();
    if (!(await fencedWrite(resource, `${prefix}resource`, lease.fence, `${process.pid}#${i}`))) refused++;
    const value = Number((await resource.get(`${prefix}counter`)) ?? '0');
    await turn();
    await resource.set(`${prefix}counter`, String(value + 1));
    if (!lease.valid) lost++;
    const end = await stamp();
    // A release that fails leaves the lease to expire: the next holder waits, nothing overlaps.
    await lease.release().catch(failed);
    if (faulted) afterFault++;
    holds.push({ fence: lease.fence.toString(), start, end, who: `${process.pid}#${i}` });
  }
  await report({ type: 'done', holds, afterFault, refused, lost, errors, failures });
  await hf.close();
  await resource.quit();
});

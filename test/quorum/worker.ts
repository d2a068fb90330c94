/**
 * One quorum stress worker: `worker.ts <urls,comma-separated> <prefix> <resourceUrl> <iterations>`.
 * Reports `ready`, waits for `go`, reports `progress` after a quarter of its iterations, and
 * from the parent's `killed` on marks its holds as made after the fault. Inside each hold it
 * writes to a fenced resource (a write with a fence below the highest seen is refused) and does
 * a non-atomic read-modify-write of a counter there, so an overlap of two holders shows.
 */
import { Redis } from 'ioredis';
import { connect } from '../../src/index.js';
import { fencedWrite } from '../faults/fenced-resource.js';
import type { Hold } from '../helpers/checker.js';
import { nextMessage, report, runChild } from '../helpers/child.js';

const [urlList = '', prefix = '', resourceUrl = '', iterationsArg = ''] = process.argv.slice(2);
const iterations = Number(iterationsArg);
/** Long enough that no lease expires on a loaded machine: expiry is not what this tests. */
const TTL = 10_000;
const WAIT = 120_000;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

runChild(async () => {
  const hf = await connect({ redlock: urlList.split(',') }, { prefix });
  const resource = new Redis(resourceUrl);
  const stamp = (): Promise<number> => resource.incr(`${prefix}seq`);
  const mutex = hf.mutex('stress', { ttl: TTL });
  const holds: Hold[] = [];
  let afterFault = 0;
  let refused = 0;
  let lost = 0;
  let faulted = false;
  void nextMessage('killed').then(() => {
    faulted = true;
  });
  await report({ type: 'ready' });
  await nextMessage('go');
  for (let i = 0; i < iterations; i++) {
    if (i === Math.floor(iterations / 4)) await report({ type: 'progress' });
    const lease = await mutex.acquire({ wait: WAIT });
    const start = await stamp();
    if (!(await fencedWrite(resource, `${prefix}resource`, lease.fence, `${process.pid}#${i}`))) refused++;
    const value = Number((await resource.get(`${prefix}counter`)) ?? '0');
    await turn();
    await resource.set(`${prefix}counter`, String(value + 1));
    if (!lease.valid) lost++;
    const end = await stamp();
    await lease.release();
    if (faulted) afterFault++;
    holds.push({ fence: lease.fence.toString(), start, end, who: `${process.pid}#${i}` });
  }
  await report({ type: 'done', holds, afterFault, refused, lost });
  await hf.close();
  await resource.quit();
});

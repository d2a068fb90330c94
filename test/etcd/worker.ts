/**
 * One etcd stress worker: `worker.ts <etcdUrl> <prefix> <name> <iterations> <redisUrl>`.
 * Reports `ready`, waits for `go`, then takes the mutex `iterations` times. Inside, it makes a
 * non-atomic read-modify-write of a counter (an overlap loses an update) and a fenced write to
 * a resource that refuses any fence not above the last one it took. Faults on the cluster
 * (a leader killed, a member cut off) may fail an acquire or release: it counts them and goes
 * on, and reports `progress` every few holds so the test can time its fault.
 *
 * A hold's start and end are stamps from one Redis counter every worker shares (INCR), as in
 * test/stress/worker.ts: per-process clocks can disagree by more than a hand-off takes.
 */
import { Redis } from 'ioredis';
import { BackendError, connect, type Lease } from '../../src/index.js';
import { fencedWrite } from '../faults/fenced-resource.js';
import type { Hold } from '../helpers/checker.js';
import { nextMessage, report, runChild } from '../helpers/child.js';
import { stressKeys } from '../stress/shared.js';

const [url = '', prefix = '', name = '', iterationsArg = '', redisUrl = ''] = process.argv.slice(2);
const iterations = Number(iterationsArg);
/** Long enough that no lease expires across a leader election on a loaded machine. */
const TTL = 10_000;
const WAIT = 120_000;
const PROGRESS_EVERY = 10;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

runChild(async () => {
  const hf = await connect(url, { prefix });
  const redis = new Redis(redisUrl);
  const keys = stressKeys(prefix);
  const stamp = (): Promise<number> => redis.incr(keys.seq);
  const lock = hf.mutex(name, { ttl: TTL });
  const holds: Hold[] = [];
  let lost = 0;
  let refused = 0;
  let errors = 0;

  await report({ type: 'ready' });
  await nextMessage('go');
  while (holds.length < iterations) {
    let lease: Lease;
    try {
      lease = await lock.acquire({ wait: WAIT });
    } catch (error) {
      if (!(error instanceof BackendError)) throw error;
      errors++;
      continue;
    }
    const start = await stamp();
    const value = Number((await redis.get(keys.counter)) ?? '0');
    await turn();
    await redis.set(keys.counter, String(value + 1));
    if (!(await fencedWrite(redis, `${prefix}test:resource`, lease.fence, `${process.pid}`))) refused++;
    if (lease.signal.aborted || !lease.valid) lost++;
    const end = await stamp();
    await lease.release().catch(() => {
      errors++;
    });
    holds.push({ fence: lease.fence.toString(), start, end, who: `${process.pid}#${holds.length}` });
    if (holds.length % PROGRESS_EVERY === 0) await report({ type: 'progress', holds: holds.length });
  }
  await report({ type: 'done', holds, lost, refused, errors });
  await hf.close();
  await redis.quit();
});

/**
 * One stress worker process: `worker.ts <url> <prefix> <mutex|semaphore> <name> <iterations> <permits>`.
 * Reports `ready`, waits for `go` (so every worker contends from the same moment), then takes
 * the lock `iterations` times and reports `done` with every hold it made.
 *
 * Inside a mutex it does a deliberately non-atomic read-modify-write of a shared counter (GET,
 * then SET value + 1 a turn later): any overlap of two holders can lose an update. Inside a
 * semaphore it INCRs an `inside` counter on entry and DECRs it on exit, and notes the highest
 * value it saw; a `done` counter (atomic INCR) proves every hold happened.
 *
 * A hold's start and end are stamps from one Redis counter (`seq`, INCR), taken just after
 * `acquire()` resolved and just before `release()` was sent: Redis executes commands one at a
 * time, so the stamps of all processes form one order that agrees with real time. Per-process
 * clocks (`performance.timeOrigin`) do not: they can disagree by more than a hold lasts, and
 * a checker comparing them saw 4 holders in a 3-permit semaphore that never had them.
 */
import { Redis } from 'ioredis';
import { connect, type Lease } from '../../src/index.js';
import type { Hold } from '../helpers/checker.js';
import { nextMessage, report, runChild } from '../helpers/child.js';
import { stressKeys } from './shared.js';

const [url = '', prefix = '', kind = '', name = '', iterationsArg = '', permitsArg = ''] = process.argv.slice(2);
const iterations = Number(iterationsArg);
const permits = Number(permitsArg);
/** Long enough that no lease can expire on a loaded 2-core machine: a lost lease is not the point here. */
const TTL = 10_000;
const WAIT = 120_000;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const keys = stressKeys(prefix);

runChild(async () => {
  const hf = await connect(url, { prefix });
  const redis = new Redis(url);
  const stamp = (): Promise<number> => redis.incr(keys.seq);
  const lock = kind === 'mutex' ? hf.mutex(name, { ttl: TTL }) : hf.semaphore(name, { permits, ttl: TTL });
  const holds: Hold[] = [];
  let maxInside = 0;
  let lost = 0;
  let releasedFalse = 0;

  // The critical section; returns once it has left it.
  const critical = async (): Promise<void> => {
    if (kind === 'mutex') {
      const value = Number((await redis.get(keys.counter)) ?? '0');
      await turn();
      await redis.set(keys.counter, String(value + 1));
      return;
    }
    maxInside = Math.max(maxInside, await redis.incr(keys.inside));
    await turn();
    await redis.decr(keys.inside);
    await redis.incr(keys.done);
  };

  await report({ type: 'ready' });
  await nextMessage('go');
  for (let i = 0; i < iterations; i++) {
    const lease: Lease = await lock.acquire({ wait: WAIT });
    const start = await stamp();
    await critical();
    if (lease.signal.aborted || !lease.valid) lost++;
    const end = await stamp();
    if (!(await lease.release())) releasedFalse++;
    holds.push({ fence: lease.fence.toString(), start, end, who: `${process.pid}#${i}` });
  }
  await report({ type: 'done', holds, maxInside, lost, releasedFalse });
  await hf.close();
  await redis.quit();
});

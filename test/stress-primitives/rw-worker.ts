/**
 * One read-write lock stress worker:
 * `rw-worker.ts <url> <witnessUrl> <prefix> <name> <iterations> <writeShare> <who>`: the lock is on
 * the backend at `url`, the witnesses below on the Redis at `witnessUrl` (on Redis, the same one).
 * Reports `ready`, waits for `go`, then takes the lock `iterations` times, a write when
 * `isWrite(i, writeShare)` says so, else a read, and reports `done` with every hold.
 *
 * A writer does a deliberately non-atomic read-modify-write of a shared counter (GET, a turn,
 * SET + 1): an overlap with another writer can lose an update. It also reads a `readers` counter
 * before and after, which every reader INCRs on entry and DECRs on exit: a writer that sees a
 * reader inside is a server-side witness of a broken exclusion, independent of any clock. A reader
 * reads the counter twice, a turn apart; a change means a writer ran inside its hold.
 *
 * A hold's start and end are stamps from one Redis counter (INCR on `seq`) that every worker
 * shares: Redis orders them as they happened, where per-process clocks can disagree by more than
 * a hold lasts. Wait times are measured on this process's own clock.
 */
import { Redis } from 'ioredis';
import { connect, type Lease } from '../../src/index.js';
import { nextMessage, report, runChild } from '../helpers/child.js';
import type { RwHold } from './checkers.js';
import { isWrite, rwKeys, wallNow } from './shared.js';

const [url = '', witnessUrl = '', prefix = '', name = '', iterationsArg = '', shareArg = '', who = ''] =
  process.argv.slice(2);
const iterations = Number(iterationsArg);
const writeShare = Number(shareArg);
/** Long enough that no lease can expire on a loaded 2-core machine: a lost lease is not the point here. */
const TTL = 10_000;
const WAIT = 120_000;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const keys = rwKeys(prefix);

runChild(async () => {
  const hf = await connect(url, { prefix });
  const redis = new Redis(witnessUrl);
  const lock = hf.rwlock(name, { ttl: TTL });
  const holds: RwHold[] = [];
  const stats = {
    writes: 0,
    lost: 0,
    releasedFalse: 0,
    tornReads: 0,
    writerSawReaders: 0,
    mostReadersInside: 0,
    longestWriteWait: 0,
    longestReadWait: 0,
  };

  const stamp = (): Promise<number> => redis.incr(keys.seq);

  const written = async (lease: Lease, asked: number, i: number): Promise<void> => {
    stats.longestWriteWait = Math.max(stats.longestWriteWait, wallNow() - asked);
    const start = await stamp();
    const before = Number((await redis.get(keys.readers)) ?? '0');
    const value = Number((await redis.get(keys.counter)) ?? '0');
    await turn();
    await redis.set(keys.counter, String(value + 1));
    const after = Number((await redis.get(keys.readers)) ?? '0');
    if (before !== 0 || after !== 0) stats.writerSawReaders++;
    if (lease.signal.aborted || !lease.valid) stats.lost++;
    const end = await stamp();
    if (!(await lease.release())) stats.releasedFalse++;
    holds.push({ kind: 'write', fence: lease.fence.toString(), start, end, who: `${who}#${i}` });
  };

  const readBody = async (lease: Lease, asked: number, i: number): Promise<void> => {
    stats.longestReadWait = Math.max(stats.longestReadWait, wallNow() - asked);
    const start = await stamp();
    stats.mostReadersInside = Math.max(stats.mostReadersInside, await redis.incr(keys.readers));
    const first = await redis.get(keys.counter);
    await turn();
    const second = await redis.get(keys.counter);
    await redis.decr(keys.readers);
    if (first !== second) stats.tornReads++;
    if (lease.signal.aborted || !lease.valid) stats.lost++;
    const end = await stamp();
    holds.push({ kind: 'read', fence: lease.fence.toString(), start, end, who: `${who}#${i}` });
  };

  await report({ type: 'ready' });
  await nextMessage('go');
  const began = wallNow();
  for (let i = 0; i < iterations; i++) {
    const asked = wallNow();
    if (isWrite(i, writeShare)) {
      stats.writes++;
      await written(await lock.write.acquire({ wait: WAIT }), asked, i);
    } else {
      // The read side through withLock, which releases when the body returns.
      await lock.read.withLock((lease) => readBody(lease, asked, i), { wait: WAIT });
    }
  }
  const tookMs = wallNow() - began;
  await report({ type: 'done', holds, stats, tookMs });
  await hf.close();
  await redis.quit();
});

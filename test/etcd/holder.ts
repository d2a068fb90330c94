/**
 * A holder in its own process: `holder.ts <etcdUrl> <prefix> <name> <ttl> <redisUrl> <resourceKey>`.
 * Takes the mutex (auto-renewed), makes a fenced write, and reports `acquired` with its fence.
 * On `check` (sent after a SIGSTOP/SIGCONT), reports what its lease says and whether the
 * resource still takes a write with its fence.
 */
import { Redis } from 'ioredis';
import { connect, LeaseLostError } from '../../src/index.js';
import { fencedWrite } from '../faults/fenced-resource.js';
import { nextMessage, report, runChild } from '../helpers/child.js';
import { machineNow } from '../helpers/machine-clock.js';
import { aborted, withTimeout } from '../helpers/wait.js';

const [url = '', prefix = '', name = '', ttlArg = '', redisUrl = '', resourceKey = ''] = process.argv.slice(2);

runChild(async () => {
  const hf = await connect(url, { prefix });
  const redis = new Redis(redisUrl);
  const lease = await hf.mutex(name, { ttl: Number(ttlArg) }).tryAcquire();
  if (lease === null) throw new Error(`"${name}" was not free`);
  const wrote = await fencedWrite(redis, resourceKey, lease.fence, `first write by ${process.pid}`);
  await report({
    type: 'acquired',
    fence: lease.fence.toString(),
    wrote,
    at: machineNow(),
  });

  await nextMessage('check');
  const valid = lease.valid;
  const reason = await withTimeout(aborted(lease.signal), 5000, 'the lease signal to abort');
  const stale = await fencedWrite(redis, resourceKey, lease.fence, `stale write by ${process.pid}`);
  await report({
    type: 'checked',
    valid,
    leaseLost: reason instanceof LeaseLostError,
    why: reason instanceof Error ? reason.message : String(reason),
    wrote: stale,
  });
  await hf.close().catch(() => {});
  await redis.quit();
});

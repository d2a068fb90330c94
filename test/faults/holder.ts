/**
 * A lock holder in its own process, for fault tests:
 * `holder.ts <url> <prefix> <name> <ttl> <resourceKey>`. Takes the mutex (auto-renewed) and
 * reports `acquired` with its fence. Then it waits for `check`, which the test sends after
 * resuming it from SIGSTOP, and reports what the lease says about itself, whether `extend()`
 * still works and whether the fenced resource takes a write with its old fence.
 */
import { Redis } from 'ioredis';
import { connect, HoldfastError, LeaseLostError } from '../../src/index.js';
import { nextMessage, report, runChild } from '../helpers/child.js';
import { aborted, withTimeout } from '../helpers/wait.js';
import { fencedWrite } from './fenced-resource.js';

const [url = '', prefix = '', name = '', ttlArg = '', resourceKey = ''] = process.argv.slice(2);

function describeError(error: unknown): { leaseLost: boolean; name: string; code: string | null } {
  return {
    leaseLost: error instanceof LeaseLostError,
    name: error instanceof Error ? error.name : typeof error,
    code: error instanceof HoldfastError ? error.code : null,
  };
}

runChild(async () => {
  const hf = await connect(url, { prefix });
  const redis = new Redis(url);
  const lease = await hf.mutex(name, { ttl: Number(ttlArg), autoExtend: true }).tryAcquire();
  if (lease === null) throw new Error(`"${name}" was not free`);
  await report({ type: 'acquired', fence: lease.fence.toString() });

  await nextMessage('check');
  // First thing after the resume, before anything else had a chance to run.
  const valid = lease.valid;
  const abortedAtCheck = lease.signal.aborted;
  const reason = await withTimeout(aborted(lease.signal), 5000, 'the lease signal to abort');
  let extend: { resolved: true } | ({ resolved: false } & ReturnType<typeof describeError>);
  try {
    await lease.extend();
    extend = { resolved: true };
  } catch (error) {
    extend = { resolved: false, ...describeError(error) };
  }
  const wrote = await fencedWrite(redis, resourceKey, lease.fence, `stale write by ${process.pid}`);
  await report({ type: 'checked', valid, abortedAtCheck, reason: describeError(reason), extend, wrote });
  await hf.close();
  await redis.quit();
});

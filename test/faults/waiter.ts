/**
 * A waiter in its own process, for fault tests: `waiter.ts <url> <prefix> <name> <ttl>`. Reports
 * `asking`, then blocks in `acquire()` on the mutex (no renewal) and reports `acquired` with its
 * fence once it holds, then keeps holding until the test kills it.
 */
import { connect } from '../../src/index.js';
import { report, runChild } from '../helpers/child.js';

const [url = '', prefix = '', name = '', ttlArg = ''] = process.argv.slice(2);

runChild(async () => {
  const hf = await connect(url, { prefix });
  const acquiring = hf.mutex(name, { ttl: Number(ttlArg), autoExtend: false }).acquire();
  await report({ type: 'asking' });
  const lease = await acquiring;
  await report({ type: 'acquired', fence: lease.fence.toString() });
  // Held until SIGKILL: a crash, so nothing is released.
  await new Promise(() => {});
});

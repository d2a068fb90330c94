/**
 * A holder that never releases, in its own process: `stuck-holder.ts <url> <prefix> <name>`.
 * Takes the mutex with a long (15 s), auto-renewed TTL and reports `acquired`; then reports `lost`
 * (with the error's code) once its lease is taken from it, e.g. by a force-release.
 */
import { connect, HoldfastError } from '../../src/index.js';
import { report, runChild } from '../helpers/child.js';
import { aborted } from '../helpers/wait.js';

const [url = '', prefix = '', name = ''] = process.argv.slice(2);

runChild(async () => {
  const hf = await connect(url, { prefix });
  const lease = await hf.mutex(name, { ttl: 15_000, owner: { worker: 'batch-7', pid: process.pid } }).acquire();
  await report({ type: 'acquired', fence: lease.fence.toString() });
  const reason = await aborted(lease.signal);
  await report({ type: 'lost', code: reason instanceof HoldfastError ? reason.code : String(reason) });
  await hf.close();
});

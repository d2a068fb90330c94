/**
 * A grant's event says the TTL it was granted for, on the memory backend (and so on the embedded
 * server) as the Redis scripts and etcd say it, however long the operation took. Its event used to
 * read the clock again: a ms lost between the grant and the event (a loaded machine) showed a
 * 30000 ms grant as `ttl 29999 ms` in `holdfast watch` (test/cli.test.ts caught it once).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type Clock, connect } from '../src/index.js';

it('an acquired event reports the TTL granted, even when the clock moves during the acquire', async () => {
  // 1.5 ms later at every read: an operation that takes that long between any two of its reads.
  let now = 0;
  const clock: Clock = {
    now: () => {
      now += 1.5;
      return now;
    },
    wallMicros: () => Date.now() * 1000,
    // Nothing here waits on a timer: the grant is taken and released at once.
    setTimer: () => ({ cancel: () => {} }),
  };
  const hf = await connect('memory://', { clock });
  try {
    const events = hf.watch('ttl:*');
    await events.ready;
    const lease = await hf.mutex('ttl:1', { ttl: 30_000, autoExtend: false }).acquire();
    await lease.release();
    const seen: { type: string; expiresIn: number | null }[] = [];
    for await (const e of events) {
      seen.push({ type: e.type, expiresIn: e.expiresIn });
      if (e.type === 'released') break;
    }
    assert.deepEqual(seen, [
      { type: 'acquired', expiresIn: 30_000 },
      { type: 'released', expiresIn: null },
    ]);
  } finally {
    await hf.close();
  }
});

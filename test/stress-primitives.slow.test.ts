/**
 * The primitives stress (read-write lock, rate limiter, election: test/stress-primitives/suite.ts)
 * on real redis-servers, one per test; the read-write workers keep their witnesses on the same
 * server as the lock. The same runs on a 3-member etcd cluster: stress-primitives-etcd.slow.test.ts.
 */
import { world } from './faults/world.js';
import type { StressEngine } from './stress-primitives/engine.js';
import { stressPrimitives } from './stress-primitives/suite.js';

const redis: StressEngine = {
  label: 'Redis',
  /** Redis keeps ms TTLs: short, so a frozen leader is replaced soon. */
  electionTtl: 500,
  async world(t) {
    const w = await world(t);
    return {
      url: w.redis.url,
      prefix: w.prefix,
      witness: { url: w.redis.url, admin: w.admin },
      client: () => w.client(),
      spawn: (script, args) => w.spawn(script, args),
    };
  },
};

stressPrimitives(redis);

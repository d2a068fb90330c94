/**
 * The primitives stress (test/stress-primitives/suite.ts: the same tests, workers and checkers as
 * stress-primitives.slow.test.ts on Redis) on a 3-member etcd cluster, started once for the file;
 * each test has its own key prefix. The read-write workers keep their witnesses (the writers'
 * counter, the readers inside, the stamp counter that orders every hold) on a redis-server beside
 * the cluster, as the etcd mutex stress does. The rate limiter runs are skipped, the skip reading
 * the client's capabilities: etcd declares no rate limiting (README, "etcd").
 */
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { useEtcdCluster } from './helpers/etcd-world.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';
import { testScope } from './helpers/test-scope.js';
import type { StressEngine } from './stress-primitives/engine.js';
import { stressPrimitives } from './stress-primitives/suite.js';

const cluster = useEtcdCluster(3);
let witness: { url: string; admin: Redis; server: RedisProcess } | undefined;
before(async () => {
  const server = await startRedis();
  witness = { url: server.url, admin: new Redis(server.url), server };
});
after(async () => {
  await witness?.admin.quit();
  await witness?.server.stop();
});

const etcd: StressEngine = {
  label: 'etcd (3 members)',
  /**
   * etcd leases are whole seconds (at least 2 on the cluster), and a frozen leader is replaced
   * only once the cluster expired its lease. 3 s leaves the test a second between a confirmed
   * renewal and the next (ttl / 3) to freeze the leader in, on a loaded 2-core machine.
   */
  electionTtl: 3000,
  async world(t) {
    if (!witness) throw new Error('the witness redis-server has not started');
    const { url } = cluster();
    const prefix = `stress-${randomBytes(6).toString('hex')}:`;
    const scope = testScope(t);
    return {
      url,
      prefix,
      witness,
      client: () => scope.client(url, { prefix }),
      spawn: (script, args) => scope.spawn(script, args),
    };
  },
};

stressPrimitives(etcd);

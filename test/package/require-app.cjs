// CommonJS consumer, run by test/package.test.ts from a temp dir whose node_modules/holdfast is
// the built package: every entry point loads with require(), a lock is taken on memory://, on
// the Redis named by the first argument and on an embedded server started with limits. Prints
// one JSON line.
'use strict';
const { connect, HoldfastError, ValidationError } = require('holdfast');
const { FakeClock } = require('holdfast/testing');
const { DEFAULT_LIMITS, startServer } = require('holdfast/server');

async function main(redisUrl) {
  const redis = await connect(redisUrl, { prefix: 'cjs:' });
  const redisLease = await redis.mutex('cjs', { ttl: 5_000 }).acquire({ wait: 5_000 });
  const redisReleased = await redisLease.release();
  await redis.close();

  const hf = await connect('memory://');
  const lease = await hf.mutex('cjs').acquire({ wait: 1_000 });
  const state = await hf.inspect('cjs');
  const released = await lease.release();
  await hf.close();

  const server = await startServer({ port: 0, limits: { maxWaitersPerKey: 2 } });
  const remote = await connect(`holdfast://127.0.0.1:${server.port}`);
  const remoteLease = await remote.mutex('cjs').acquire({ wait: 1_000 });
  await remoteLease.release();
  await remote.close();
  await server.close();

  const result = {
    fence: typeof lease.fence,
    holders: state === null ? 0 : state.holders.length,
    released,
    redisReleased,
    remoteFence: typeof remoteLease.fence,
    errors: new ValidationError('x') instanceof HoldfastError,
    fakeClock: typeof new FakeClock().now(),
    maxArgs: DEFAULT_LIMITS.maxArgs,
  };
  console.log(JSON.stringify(result));
}

main(process.argv[2]).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

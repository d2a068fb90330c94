// A small app that test/package.test.ts bundles into one file with esbuild and runs from a
// directory with no node_modules: the Redis backend must find its Lua inside the bundle.
// Usage: node app.cjs URL. Prints one JSON line.
import { connect } from 'holdfast';

async function main(url) {
  const hf = await connect(url, { prefix: 'bundle:' });
  try {
    const lease = await hf.mutex('report', { ttl: 5_000 }).acquire({ wait: 5_000 });
    const state = await hf.inspect('report');
    const released = await lease.release();
    const slot = await hf.semaphore('pool', { permits: 2, ttl: 5_000 }).tryAcquire();
    await slot?.release();
    const rate = await hf.rateLimiter('api', { limit: 5, window: 1_000 }).tryTake();
    return {
      fence: typeof lease.fence,
      holders: state === null ? 0 : state.holders.length,
      released,
      slot: slot !== null,
      allowed: rate.allowed,
    };
  } finally {
    await hf.close();
  }
}

main(process.argv[2] ?? 'memory://').then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);

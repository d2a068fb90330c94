/**
 * `npm run demo`: the seed scenarios on one backend, each ending in a verified check.
 * Default backend: in-process memory (`memory://`); `--redis redis://host:port` to use Redis.
 */
import { connect, type Holdfast, MemoryStore } from '../src/index.js';
import { cachedReport } from './cached-report.js';
import { contactCenter } from './contact-center.js';
import { nightlySync } from './nightly-sync.js';
import { partnerApi } from './partner-api.js';

async function clients(count: number, redisUrl: string | undefined): Promise<Holdfast[]> {
  const store = new MemoryStore();
  const prefix = `demo:${process.pid}:`;
  return Promise.all(
    Array.from({ length: count }, () => (redisUrl ? connect(redisUrl, { prefix }) : connect({ memory: store }))),
  );
}

async function main(): Promise<number> {
  const flag = process.argv.indexOf('--redis');
  const redisUrl = flag >= 0 ? process.argv[flag + 1] : undefined;
  const instances = await clients(3, redisUrl);
  const [first] = instances as [Holdfast];
  console.log(`holdfast demo on ${redisUrl ?? 'memory://'}\n`);
  const results = [
    ['contact center (seeds 000/001)', await contactCenter(first)],
    ['3 servers share "5 requests per 800 ms" (seed 002)', await partnerApi(instances)],
    ['dog-pile on a cold cache key with cached() (seed 003)', await cachedReport(instances)],
    ['cron across 3 instances with schedule() (seed 004)', await nightlySync(instances)],
  ] as const;
  await Promise.all(instances.map((hf) => hf.close()));
  for (const [title, summary] of results) {
    console.log(`${summary.ok ? '✓' : '✗'} ${title}`);
    console.log(`  ${JSON.stringify(summary)}`);
  }
  const ok = results.every(([, summary]) => summary.ok);
  console.log(ok ? '\nall checks held' : '\nSOME CHECKS FAILED');
  return ok ? 0 : 1;
}

process.exitCode = await main();

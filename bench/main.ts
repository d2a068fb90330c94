/**
 * `npm run bench`: holdfast against redlock and redis-semaphore (locks), and against
 * rate-limiter-flexible (rate limiters), on one private redis-server, in one run. Prints one row
 * per measure, holdfast's ratio to each peer (> 1: holdfast is better) and the targets
 * with ✓/✗. Not a test: it never fails on a missed target.
 */
import { cpus, loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { runContended } from './contended.js';
import { runExpiry } from './expiry.js';
import { runHandoff } from './handoff.js';
import { peerDefaults, versions } from './libs.js';
import { RATE_LAYOUT, runRate } from './rate.js';
import { rlfVersion } from './rate-libs.js';
import { type RedisServer, startRedis } from './redis.js';
import { LOCK_LAYOUT, type Row, renderTable, renderTargets } from './table.js';
import { checkTargets } from './targets.js';
import { runUncontended } from './uncontended.js';

async function redisVersion(url: string): Promise<string> {
  const client = new Redis(url);
  try {
    const info = await client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  } finally {
    await client.quit();
  }
}

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  process.stderr.write(`  ${what} … `);
  const result = await fn();
  process.stderr.write(`${((performance.now() - start) / 1000).toFixed(1)} s\n`);
  return result;
}

async function main(): Promise<void> {
  const started = performance.now();
  let server: RedisServer | undefined;
  const stopOnSignal = (signal: NodeJS.Signals): void => {
    void (server?.stop() ?? Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    server = await startRedis();
    const url = server.url;
    console.log('holdfast bench — compared:');
    for (const line of versions()) console.log(`  ${line}`);
    console.log(`  ${rlfVersion()} (RateLimiterRedis, RateLimiterQueue)`);
    console.log(
      `  redis-server ${await redisVersion(url)} (private, pid ${server.pid}, ${url}), node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]?.toFixed(2)}`,
    );
    console.log('peers at their defaults:');
    for (const line of peerDefaults()) console.log(`  ${line}`);
    console.log(
      '  rate-limiter-flexible: RateLimiterRedis defaults (a fixed window from the first consume to key expiry)',
    );
    console.log('');
    const rows: Row[] = [];
    rows.push(...(await timed('uncontended', () => runUncontended(url))));
    rows.push(...(await timed('contended', () => runContended(url))));
    rows.push(...(await timed('hand-off', () => runHandoff(url))));
    rows.push(...(await timed('expiry take-over', () => runExpiry(url))));
    const rateRows = await timed('rate limiter', () => runRate(url));
    const targets = checkTargets(rows, rateRows);
    console.log('');
    console.log(renderTable(rows, LOCK_LAYOUT));
    console.log('');
    console.log(renderTable(rateRows, RATE_LAYOUT));
    console.log('');
    console.log('targets:');
    console.log(renderTargets(targets));
    console.log('');
    // Other work on the machine skews every number; this says how much there was.
    const load = loadavg()[0]?.toFixed(2);
    console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s, load average now ${load}`);
  } finally {
    await server?.stop();
  }
}

await main();

/**
 * `npm run bench`: holdfast against redlock and redis-semaphore (locks), and against
 * rate-limiter-flexible (rate limiters), on one private redis-server, in one run; then holdfast
 * on a private 3-member etcd cluster against the etcd3 package's Lock (bench/etcd.ts). Prints one row
 * per measure, holdfast's ratio to each peer (> 1: holdfast is better) and the targets
 * with ✓/✗. Not a test: it never fails on a missed target. An informational "holdfast://" column
 * runs holdfast on its embedded server (a private one, in a process of its own, as Redis is)
 * for the main lock measures and the rate limiter's throughput: the embedded default vs Redis.
 * holdfast is measured as it ships, the build in dist/ (`npm run bench` builds it first), as the
 * peers are measured as their packages ship: not the sources under tsx, whose keep-names helper
 * costs every closure a defineProperty (about 10 % more client CPU per acquire+release).
 */
import { cpus, loadavg } from 'node:os';
import { Redis } from 'ioredis';
// The tests' spawner: a free loopback port, no persistence, stopped by PID (also if we die).
import { type RedisProcess, startRedis } from '../test/helpers/redis-server.js';
import { runContended } from './contended.js';
import { runEtcd } from './etcd.js';
import { runExpiry } from './expiry.js';
import { measureFloors } from './floors.js';
import { runHandoff } from './handoff.js';
import { type HoldfastServer, startHoldfastServer } from './holdfast-server.js';
import { peerDefaults, versions } from './libs.js';
import { renderQuorum, runQuorum } from './quorum.js';
import { RATE_LAYOUT, runRate } from './rate.js';
import { rlfVersion } from './rate-libs.js';
import { LOCK_LAYOUT, type Row, renderTable, renderTargets } from './table.js';
import { checkTargets } from './targets.js';
import { renderTelemetry, runTelemetry } from './telemetry.js';
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
  let server: RedisProcess | undefined;
  let hfServer: HoldfastServer | undefined;
  const stopServers = async (): Promise<void> => {
    await Promise.allSettled([server?.stop(), hfServer?.stop()]);
  };
  const stopOnSignal = (signal: NodeJS.Signals): void => {
    void stopServers().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    server = await startRedis();
    hfServer = await startHoldfastServer();
    const url = server.url;
    const hfUrl = hfServer.url;
    console.log('holdfast bench — compared:');
    for (const line of versions()) console.log(`  ${line}`);
    console.log(`  ${rlfVersion()} (RateLimiterRedis, RateLimiterQueue)`);
    console.log(
      `  redis-server ${await redisVersion(url)} (private, pid ${server.pid}, ${url}), node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]?.toFixed(2)}`,
    );
    console.log(
      `  holdfast:// — holdfast's embedded server (this working tree, built to dist/; private, in-memory, its own process, pid ${hfServer.pid}, ${hfUrl}):`,
    );
    console.log('    informational columns, no targets: the embedded default vs Redis, same client code and settings;');
    console.log(
      '    measured: uncontended (autoExtend:false rows, CPU), contended, hand-off, expiry, rate limiter throughput; n/a: not measured',
    );
    console.log('peers at their defaults:');
    for (const line of peerDefaults()) console.log(`  ${line}`);
    console.log(
      '  rate-limiter-flexible: RateLimiterRedis defaults (a fixed window from the first consume to key expiry)',
    );
    console.log('');
    const rows: Row[] = [];
    const hf = hfServer;
    rows.push(...(await timed('uncontended', () => runUncontended(url, hf))));
    rows.push(...(await timed('contended', () => runContended(url, hfUrl))));
    const handoff = await timed('hand-off (and a bare PUBLISH → SUBSCRIBE)', () => runHandoff(url, hfUrl));
    rows.push(...handoff.rows);
    rows.push(...(await timed('expiry take-over', () => runExpiry(url, hfUrl))));
    const rateRows = await timed('rate limiter', () => runRate(url, hfUrl));
    const floors = await timed('floors (round trip, script time)', () => measureFloors(url, handoff.floor));
    const telemetry = await timed('telemetry overhead', () => runTelemetry());
    const quorum = await timed('quorum of 3 (own servers)', () => runQuorum(url));
    const etcdLines = await timed('etcd (a private 3-member cluster) vs the etcd3 package’s Lock', () => runEtcd(url));
    const targets = checkTargets(rows, rateRows, floors);
    console.log('');
    console.log(renderTable(rows, LOCK_LAYOUT));
    console.log('');
    console.log(renderTable(rateRows, RATE_LAYOUT));
    console.log('');
    console.log('targets:');
    console.log(renderTargets(targets));
    console.log('');
    console.log(renderTelemetry(telemetry));
    console.log('');
    console.log(renderQuorum(quorum));
    for (const line of etcdLines) console.log(line);
    console.log('');
    // Other work on the machine skews every number; this says how much there was.
    const load = loadavg()[0]?.toFixed(2);
    console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s, load average now ${load}`);
  } finally {
    await stopServers();
  }
}

await main();

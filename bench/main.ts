/**
 * `npm run bench [-- section…]`: holdfast against redlock and redis-semaphore (locks), and against
 * rate-limiter-flexible (rate limiters), on one private redis-server, in one run; sections:
 * uncontended, contended, handoff, expiry, rate, scale, telemetry, quorum, cluster, etcd (default: all). Prints one row
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
import { renderCluster, runCluster } from './cluster.js';
import { runContended } from './contended.js';
import { runEtcd } from './etcd.js';
import { runExpiry } from './expiry.js';
import type { Floors } from './floors.js';
import { type HandoffFloor, type Placement, runHandoff } from './handoff.js';
import { type HoldfastServer, startHoldfastServer } from './holdfast-server.js';
import { peerDefaults, versions } from './libs.js';
import { CLIENT_CPU, describePinning, pin, SERVER_CPU } from './pin.js';
import { renderQuorum, runQuorum } from './quorum.js';
import { RATE_LAYOUT, type RateColumn, runRate } from './rate.js';
import { rlfVersion } from './rate-libs.js';
import { runScale } from './scale.js';
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

/** The sections, in the order a full run takes them; `npm run bench -- <section>…` runs some. */
const SECTIONS = [
  'uncontended',
  'contended',
  'handoff',
  'expiry',
  'rate',
  'scale',
  'telemetry',
  'quorum',
  'cluster',
  'etcd',
] as const;
type Section = (typeof SECTIONS)[number];

function chosenSections(): Set<Section> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(SECTIONS as readonly string[]).includes(a));
  if (unknown.length > 0) {
    console.error(`unknown bench section "${unknown[0]}"`);
    console.error(`usage: npm run bench [-- ${SECTIONS.join('|')} …]   (no section: all of them)`);
    process.exit(2);
  }
  return new Set(asked.length === 0 ? SECTIONS : (asked as Section[]));
}

async function main(): Promise<void> {
  const sections = chosenSections();
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
    pin(server.pid, SERVER_CPU);
    pin(process.pid, CLIENT_CPU);
    hfServer = await startHoldfastServer();
    const url = server.url;
    const hfUrl = hfServer.url;
    console.log(`holdfast bench — sections: ${[...sections].join(', ')}; compared:`);
    for (const line of versions()) console.log(`  ${line}`);
    console.log(`  ${rlfVersion()} (RateLimiterRedis, RateLimiterQueue)`);
    console.log(
      `  redis-server ${await redisVersion(url)} (private, pid ${server.pid}, ${url}), node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]?.toFixed(2)}`,
    );
    console.log(`  pinning: ${describePinning()}`);
    console.log(
      `  holdfast:// — holdfast's embedded server (this working tree, built to dist/; private, in-memory, its own process, pid ${hfServer.pid}, ${hfUrl}):`,
    );
    console.log('    the same client code and settings as on Redis; checked against the same ratios ("[embedded]")');
    console.log('peers at their defaults:');
    for (const line of peerDefaults()) console.log(`  ${line}`);
    console.log(
      '  rate-limiter-flexible: RateLimiterRedis defaults (a fixed window from the first consume to key expiry)',
    );
    console.log('');
    const rows: Row[] = [];
    let rateRows: Row<RateColumn>[] = [];
    let floors: Floors | null = null;
    let handoffFloors: Record<Placement, HandoffFloor> | null = null;
    const hf = hfServer;
    if (sections.has('uncontended')) {
      const uncontended = await timed('uncontended (and its floors)', () => runUncontended(url, hf));
      rows.push(...uncontended.rows);
      floors = uncontended.floors;
    }
    if (sections.has('contended')) rows.push(...(await timed('contended', () => runContended(url, hfUrl))));
    if (sections.has('handoff')) {
      const handoff = await timed('hand-off (and a bare PUBLISH → SUBSCRIBE), apart and on one core', () =>
        runHandoff(url, hfUrl),
      );
      rows.push(...handoff.rows);
      handoffFloors = handoff.floors;
    }
    if (sections.has('expiry')) rows.push(...(await timed('expiry take-over', () => runExpiry(url, hfUrl))));
    if (sections.has('rate')) rateRows = await timed('rate limiter', () => runRate(url, hfUrl));
    if (sections.has('scale')) rows.push(...(await timed('scale', () => runScale(url, hf))));
    const telemetry = sections.has('telemetry') ? await timed('telemetry overhead', () => runTelemetry()) : null;
    const quorum = sections.has('quorum') ? await timed('quorum of 3 (own servers)', () => runQuorum()) : null;
    const cluster = sections.has('cluster')
      ? await timed('Redis Cluster of 3 masters (own servers) vs one Redis', () => runCluster())
      : null;
    const etcdLines = sections.has('etcd')
      ? await timed('etcd (a private 3-member cluster) vs the etcd3 package’s Lock', () => runEtcd(url))
      : [];
    const targets = checkTargets(rows, rateRows, floors, handoffFloors);
    console.log('');
    if (rows.length > 0) console.log(renderTable(rows, LOCK_LAYOUT));
    if (rateRows.length > 0) {
      console.log('');
      console.log(renderTable(rateRows, RATE_LAYOUT));
    }
    console.log('');
    console.log('targets:');
    console.log(renderTargets(targets));
    console.log('');
    if (telemetry) {
      console.log(renderTelemetry(telemetry));
      console.log('');
    }
    if (quorum) {
      console.log(renderQuorum(quorum));
      console.log('');
    }
    if (cluster) {
      console.log(renderCluster(cluster));
      console.log('');
    }
    if (etcdLines.length > 0) {
      for (const line of etcdLines) console.log(line);
      console.log('');
    }
    // Other work on the machine skews every number; this says how much there was.
    const load = loadavg()[0]?.toFixed(2);
    console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s, load average now ${load}`);
  } finally {
    await stopServers();
  }
}

await main();

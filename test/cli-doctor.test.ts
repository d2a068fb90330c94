/**
 * `holdfast doctor` (the built binary) against real servers started here: a clean Redis, one
 * whose maxmemory-policy evicts, a primary with a replica (and the replica itself), restricted
 * ACL users, an unreachable port, the holdfast server and memory://. Each verdict is read from
 * --json, and the exit status is 1 exactly when a check failed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { type RunningServer, startServer } from '../src/server/index.js';
import { buildCli, runCli } from './helpers/cli.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';
import { waitFor } from './helpers/wait.js';

interface Check {
  readonly check: string;
  readonly verdict: 'ok' | 'warn' | 'fail';
  readonly detail: string;
  readonly advice?: string;
}

interface Report {
  readonly code: number | null;
  readonly ok: boolean;
  readonly checks: Record<string, Check>;
}

async function doctor(url: string): Promise<Report> {
  const result = await runCli(['doctor', url, '--json']);
  const parsed = JSON.parse(result.stdout) as { url: string; ok: boolean; checks: Check[] };
  assert.equal(parsed.url, url.replace(/:pw@/, ':***@'), 'a password is never printed');
  return { code: result.code, ok: parsed.ok, checks: Object.fromEntries(parsed.checks.map((c) => [c.check, c])) };
}

/**
 * Verdicts by check. Latency and clock are measured, and warn on a slow or skewed machine: no
 * timing in assertions, so they are shown as 'measured' once their detail has the right shape.
 */
function verdicts(report: Report): Record<string, string> {
  return Object.fromEntries(
    Object.values(report.checks).map((c) => {
      if (c.check === 'latency') assert.match(c.detail, /^round trip [\d.]+ ms min, [\d.]+ (ms|s) median over 7/);
      if (c.check === 'clock')
        assert.match(c.detail, /^backend clock [\d.]+ m?s (ahead of|behind) this host \(± [\d.]+ ms, /);
      const measured = (c.check === 'latency' || c.check === 'clock') && c.verdict !== 'fail';
      return [c.check, measured ? 'measured' : c.verdict];
    }),
  );
}

let primary: RedisProcess;
let admin: Redis;

before(async () => {
  [primary] = await Promise.all([startRedis(), buildCli()]);
  admin = new Redis(primary.url);
});

after(async () => {
  await admin.quit();
  await primary.stop();
});

describe('doctor on Redis', () => {
  it('a clean Redis: every check ok but persistence (off here), exit 0; the text report says the same', async () => {
    const report = await doctor(primary.url);
    assert.equal(report.code, 0);
    assert.deepEqual(verdicts(report), {
      server: 'ok',
      eviction: 'ok',
      persistence: 'warn',
      replication: 'ok',
      cluster: 'ok',
      latency: 'measured',
      clock: 'measured',
      acl: 'ok',
    });
    assert.match(report.checks.server?.detail ?? '', /^Redis \d+\.\d+\.\d+ \(standalone\)$/);
    assert.match(report.checks.clock?.detail ?? '', /± [\d.]+ ms, Redis TIME/);
    const text = await runCli(['doctor', primary.url]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^ {2}warn {2}persistence {2}off: /m);
    assert.match(text.stdout, /^0 fail, [1-3] warn, [5-7] ok$/m);
  });

  it('an evicting maxmemory-policy fails, naming the policy and the fix; exit 1', async () => {
    await admin.config('SET', 'maxmemory-policy', 'volatile-lru');
    try {
      const report = await doctor(primary.url);
      assert.equal(report.code, 1);
      assert.equal(report.ok, false);
      assert.equal(report.checks.eviction?.verdict, 'fail');
      assert.match(report.checks.eviction?.detail ?? '', /maxmemory-policy volatile-lru/);
      assert.match(report.checks.eviction?.advice ?? '', /noeviction/);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it('a replica fails (writes refused there); its primary warns about asynchronous failover', async () => {
    // The replica writes the primary's snapshot to its --dir: a temp dir, not the repository.
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-doctor-replica-'));
    const replica = await startRedis(['--replicaof', '127.0.0.1', String(primary.port), '--dir', dir]);
    try {
      await waitFor(async () => /connected_slaves:1/.test(await admin.info('replication')), {
        timeout: 30_000,
        what: 'the replica to attach',
      });
      const onReplica = await doctor(replica.url);
      assert.equal(onReplica.code, 1);
      assert.equal(onReplica.checks.replication?.verdict, 'fail');
      assert.match(
        onReplica.checks.replication?.detail ?? '',
        new RegExp(`replica of 127\\.0\\.0\\.1:${primary.port}`),
      );
      const onPrimary = await doctor(primary.url);
      assert.equal(onPrimary.code, 0);
      assert.equal(onPrimary.checks.replication?.verdict, 'warn');
      assert.match(onPrimary.checks.replication?.detail ?? '', /with 1 replica: replication is asynchronous/);
    } finally {
      await replica.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('restricted ACL users: commands and key patterns they lack are named, with the ACL SETUSER to fix it', async () => {
    await admin.call(
      'ACL',
      'SETUSER',
      'noscripts',
      'on',
      '>pw',
      '~holdfast:*',
      '&holdfast:*',
      '+@all',
      '-@admin',
      '-evalsha',
      '-eval',
    );
    await admin.call('ACL', 'SETUSER', 'otherkeys', 'on', '>pw', '~other:*', '&*', '+@all');
    await admin.call('ACL', 'SETUSER', 'nowatch', 'on', '>pw', '~holdfast:*', '&holdfast:*', '+@all');
    await admin.call('ACL', 'SETUSER', 'granted', 'on', '>pw', '~holdfast:*', 'allchannels', '+@all');
    const at = (user: string): string => `redis://${user}:pw@127.0.0.1:${primary.port}`;
    const noScripts = await doctor(at('noscripts'));
    assert.equal(noScripts.code, 1);
    assert.equal(noScripts.checks.acl?.verdict, 'fail');
    assert.equal(noScripts.checks.acl?.detail, 'user noscripts may not run EVALSHA, EVAL');
    assert.match(
      noScripts.checks.acl?.advice ?? '',
      /^ACL SETUSER noscripts \+evalsha \+eval ~holdfast:\* &holdfast:\*$/,
    );
    const otherKeys = await doctor(at('otherkeys'));
    assert.equal(otherKeys.checks.acl?.verdict, 'fail');
    assert.equal(otherKeys.checks.acl?.detail, 'user otherkeys may not access holdfast:* keys or channels');
    // Redis matches PSUBSCRIBE patterns literally against channel rules: &holdfast:* allows
    // locking, but not the pattern a watch subscribes to.
    const noWatch = await doctor(at('nowatch'));
    assert.equal(noWatch.code, 0, 'a warning, not a failure: locks work');
    assert.equal(noWatch.checks.acl?.verdict, 'warn');
    assert.match(noWatch.checks.acl?.detail ?? '', /not PSUBSCRIBE holdfast:ev:\*: watch\(\) and holdfast watch fail/);
    const granted = await doctor(at('granted'));
    assert.equal(granted.checks.acl?.verdict, 'ok', granted.checks.acl?.detail);
  });

  it('cluster mode: uncovered slots fail, full coverage is ok', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-doctor-cluster-'));
    const node = await startRedis(['--cluster-enabled', 'yes', '--dir', dir]);
    const client = new Redis(node.url);
    try {
      const empty = await doctor(node.url);
      assert.equal(empty.code, 1);
      assert.equal(empty.checks.cluster?.verdict, 'fail');
      assert.match(empty.checks.cluster?.detail ?? '', /0\/16384 slots ok/);
      await client.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      await waitFor(async () => /cluster_state:ok/.test(String(await client.call('CLUSTER', 'INFO'))), {
        timeout: 30_000,
        what: 'the one-node cluster to be ok',
      });
      const covered = await doctor(node.url);
      assert.equal(covered.checks.cluster?.verdict, 'ok', covered.checks.cluster?.detail);
      assert.match(covered.checks.cluster?.detail ?? '', /16384\/16384 slots ok/);
    } finally {
      await client.quit();
      await node.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an unreachable Redis: one failed check, exit 1', async () => {
    const dead = await startRedis();
    await dead.stop();
    const report = await doctor(dead.url);
    assert.equal(report.code, 1);
    assert.deepEqual(Object.keys(report.checks), ['reach']);
    assert.match(report.checks.reach?.detail ?? '', /ECONNREFUSED/);
  });
});

describe('doctor on the holdfast server and memory://', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer({ port: 0, httpPort: 0 });
  });

  after(() => server.close());

  it('holdfast://: reach, a lock round trip, latency, clock, server, persistence (in memory: warn)', async () => {
    const report = await doctor(`holdfast://127.0.0.1:${server.port}`);
    assert.equal(report.code, 0);
    assert.deepEqual(verdicts(report), {
      reach: 'ok',
      lock: 'ok',
      latency: 'measured',
      clock: 'measured',
      server: 'ok',
      persistence: 'warn',
      replication: 'ok',
    });
    assert.match(report.checks.server?.detail ?? '', /^holdfast protocol \d+/);
  });

  it('memory://: in this process only (warn), exit 0', async () => {
    const report = await doctor('memory://');
    assert.equal(report.code, 0);
    assert.deepEqual(verdicts(report), { reach: 'ok', lock: 'ok', latency: 'measured', scope: 'warn' });
  });
});

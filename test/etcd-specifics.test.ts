/**
 * What only etcd shows, on a real 3-member cluster: a fence is the holder key's create revision;
 * the cluster's lease is the ttl rounded up to whole seconds (with etcd's minimum); a hand-off
 * among many waiters costs the cluster no request from the waiters (each watches only the key
 * ahead of it); the CLI works on etcd; URLs are checked before any I/O; rate limiting is refused
 * for what it is; without the etcd3 package, connect() says what to install.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Etcd3 } from 'etcd3';
import {
  BackendError,
  connect,
  type Holdfast,
  LeaseLostError,
  UnsupportedError,
  ValidationError,
} from '../src/index.js';
import { startEtcdCluster } from './helpers/etcd-cluster.js';
import { useEtcdCluster } from './helpers/etcd-world.js';
import { untilQueued } from './helpers/queue.js';
import { aborted, withTimeout } from './helpers/wait.js';

const run = promisify(execFile);
const cluster = useEtcdCluster(3);
let plain: Etcd3 | undefined;
/** A plain etcd client, to look at the keys holdfast writes. */
const etcd = (): Etcd3 => {
  plain ??= new Etcd3({ hosts: cluster().members.map((m) => m.endpoint) });
  return plain;
};

after(() => {
  plain?.close();
});

async function clients(count: number, waiterTtl?: number): Promise<{ prefix: string; hfs: Holdfast[] }> {
  const prefix = `t-${randomBytes(6).toString('hex')}:`;
  const hfs: Holdfast[] = [];
  for (let i = 0; i < count; i++) {
    hfs.push(await connect(cluster().url, { prefix, ...(waiterTtl === undefined ? {} : { waiterTtl }) }));
  }
  return { prefix, hfs };
}

async function closeAll(hfs: readonly Holdfast[]): Promise<void> {
  await Promise.all(hfs.map((hf) => hf.close()));
}

/** KV requests (Txn, Range) the members have received so far, summed. */
async function kvRequests(): Promise<number> {
  let total = 0;
  for (const member of cluster().members) {
    const text = await (await fetch(`http://${member.endpoint}/metrics`)).text();
    for (const match of text.matchAll(/^grpc_server_started_total\{[^}]*grpc_method="(?:Txn|Range)"[^}]*\} (\d+)/gm)) {
      total += Number(match[1]);
    }
  }
  return total;
}

describe('etcd specifics', () => {
  it('gives a holder the create revision of its key as its fence', async () => {
    const { prefix, hfs } = await clients(1);
    const [hf] = hfs as [Holdfast];
    try {
      const lease = await hf.mutex('m').acquire();
      const kv = (await etcd().get(`${prefix}lock/m/${lease.token}`).exec()).kvs[0];
      assert.ok(kv, 'the holder key is where the README says');
      assert.equal(lease.fence, BigInt(kv.create_revision));
      const second = await hf.mutex('other').acquire();
      assert.ok(second.fence > lease.fence, 'revisions are one counter for the whole cluster');
      await Promise.all([lease.release(), second.release()]);
      assert.equal((await etcd().get(`${prefix}lock/m/${lease.token}`).exec()).kvs.length, 0, 'released: key gone');
    } finally {
      await closeAll(hfs);
    }
  });

  it('makes a write to etcd conditional on still holding, with the fence (the README’s example)', async () => {
    const { prefix, hfs } = await clients(1);
    const [hf] = hfs as [Holdfast];
    try {
      const lease = await hf.mutex('config').acquire({ wait: 5_000 });
      const holderKey = `${prefix}lock/config/${lease.token}`;
      const write = (value: string) =>
        etcd()
          .if(holderKey, 'Create', '==', lease.fence.toString())
          .then(etcd().put(`${prefix}config/value`).value(value))
          .commit();
      assert.equal((await write('v2')).succeeded, true, 'the holder writes');
      assert.equal(await hf.forceRelease('config'), 1);
      assert.equal((await write('v3')).succeeded, false, 'a holder that lost the lock writes nothing');
      assert.equal(await etcd().get(`${prefix}config/value`).string(), 'v2');
      await etcd().delete().key(`${prefix}config/value`).exec();
    } finally {
      await closeAll(hfs);
    }
  });

  it('puts a holder on a lease of its ttl rounded up to whole seconds, never below etcd’s minimum', async () => {
    const { prefix, hfs } = await clients(1);
    const [hf] = hfs as [Holdfast];
    try {
      const granted: Record<number, number> = {};
      for (const ttl of [300, 2500, 4000]) {
        const lease = await hf.mutex(`ttl-${ttl}`, { ttl }).acquire();
        const kv = (await etcd().get(`${prefix}lock/ttl-${ttl}/${lease.token}`).exec()).kvs[0];
        assert.ok(kv);
        granted[ttl] = Number((await etcd().leaseClient.leaseTimeToLive({ ID: kv.lease })).grantedTTL);
        await lease.release();
      }
      // etcd's minimum lease TTL is 1.5 election timeouts (1 s by default), rounded up: 2 s.
      assert.deepEqual(granted, { 300: 2, 2500: 3, 4000: 4 });
    } finally {
      await closeAll(hfs);
    }
  });

  it('hands a mutex on among six waiting clients without a request from any waiter', async () => {
    // Waiters refresh their queue entry every waiterTtl / 3: far outside this test.
    const { hfs } = await clients(7, 60_000);
    const [holder, ...waiters] = hfs as [Holdfast, ...Holdfast[]];
    try {
      const held = await holder.mutex('m').acquire();
      const waiting = waiters.map((hf) => hf.mutex('m').acquire());
      await untilQueued(holder, 'm', waiters.length, 'six waiters');
      const before = await kvRequests();
      await held.release();
      const next = await withTimeout(Promise.race(waiting), 5000, 'the hand-off');
      const requests = (await kvRequests()) - before;
      // The release (one Txn) is the only one: the next waiter holds from its watch event, and
      // the other five, each watching the key ahead of it, heard nothing.
      assert.ok(requests <= 2, `${requests} KV requests for one hand-off among ${waiters.length} waiters`);
      await next.release();
      // The rest hold in turn, each releasing once it holds.
      const rest = waiting.map((p) => p.then((lease) => (lease === next ? false : lease.release())));
      await withTimeout(Promise.all(rest), 20_000, 'every waiter to hold in turn');
    } finally {
      await closeAll(hfs);
    }
  });

  it('lists, inspects, force-releases and runs a command under a lock through the CLI', async () => {
    const { prefix, hfs } = await clients(1);
    const [hf] = hfs as [Holdfast];
    const cli = (...args: string[]) =>
      run(process.execPath, [
        '--import',
        'tsx',
        new URL('../src/cli/main.ts', import.meta.url).pathname,
        '--url',
        cluster().url,
        '--prefix',
        prefix,
        ...args,
      ]);
    try {
      const lease = await hf.mutex('agent:7', { ttl: 5000 }).acquire();
      assert.equal((await cli('ls', 'agent:*')).stdout.trim(), 'agent:7');
      const state = JSON.parse((await cli('inspect', 'agent:7', '--json')).stdout);
      assert.equal(state.holders[0].fence, lease.fence.toString());
      assert.equal((await cli('release', 'agent:7')).stdout, 'released 1 holder of agent:7\n');
      const reason = await withTimeout(aborted(lease.signal), 5000, 'the lease loss after force-release');
      assert.ok(reason instanceof LeaseLostError);
      assert.equal((await cli('inspect', 'agent:7')).stdout, 'agent:7: free\n');
      // `holdfast lock NAME -- CMD`, as `etcdctl lock` does: the command runs holding the lock,
      // with its fence (an etcd revision) in HOLDFAST_FENCE.
      const script = 'console.log(process.env.HOLDFAST_FENCE)';
      const fence = BigInt((await cli('lock', 'job', '--', process.execPath, '-e', script)).stdout.trim());
      assert.ok(fence > lease.fence, `the command ran with fence ${fence}`);
      assert.equal((await cli('inspect', 'job')).stdout, 'job: free\n');
    } finally {
      await closeAll(hfs);
    }
  });

  it('refuses a malformed etcd URL with ValidationError before any I/O', async () => {
    for (const url of ['etcd://', 'etcd://h:0', 'etcd://h:70000', 'etcd://a:1,', 'etcd://h?x=1', 'etcd://h?ca=/x']) {
      await assert.rejects(connect(url), ValidationError, url);
    }
  });

  it('declares what it holds, and refuses a rate limiter with UnsupportedError', async () => {
    const { hfs } = await clients(1);
    const [hf] = hfs as [Holdfast];
    try {
      assert.deepEqual(hf.capabilities, {
        locks: ['mutex', 'semaphore', 'rwlock', 'election'],
        wakeups: 'grant',
        rateAlgorithms: [],
        events: true,
        values: false,
      });
      assert.throws(() => hf.rateLimiter('api', { limit: 5, window: 800 }), UnsupportedError);
    } finally {
      await closeAll(hfs);
    }
  });

  it('logs in with the user and password of an etcd:// URL; a wrong password is refused at connect()', async () => {
    // A cluster of its own: enabling authentication would lock the shared one's other tests out.
    const own = await startEtcdCluster({ size: 1, partitionable: false });
    try {
      const admin = new Etcd3({ hosts: own.members.map((m) => m.endpoint) });
      await (await admin.user('root').create('s3cret')).addRole('root');
      await admin.auth.authEnable({});
      admin.close();
      const host = own.members[0]?.endpoint ?? '';
      const hf = await connect(`etcd://root:s3cret@${host}`);
      try {
        const first = await hf.mutex('m').acquire();
        const next = hf.mutex('m').acquire();
        await first.release();
        await (await withTimeout(next, 5000, 'a hand-off under authentication')).release();
      } finally {
        await hf.close();
      }
      await assert.rejects(connect(`etcd://root:wrong@${host}`), (error: unknown) => {
        assert.ok(error instanceof BackendError);
        assert.match(error.message, /authentication failed/);
        return true;
      });
    } finally {
      await own.close();
    }
  });

  it('talks TLS on etcds:// with the CA given by ?ca=, and refuses a certificate it cannot verify', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'holdfast-etcd-tls-'));
    const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
    await openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '1',
      '-subj',
      '/CN=holdfast test CA',
    );
    await openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    );
    await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    await openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '1',
      '-extfile',
      'ext.cnf',
    );
    const tls = { certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') };
    const own = await startEtcdCluster({ size: 1, partitionable: false, tls });
    try {
      assert.match(own.url, /^etcds:\/\//);
      const hf = await connect(`${own.url}?ca=${join(dir, 'ca.pem')}`);
      try {
        await (await hf.mutex('m').acquire()).release();
      } finally {
        await hf.close();
      }
      await assert.rejects(connect(own.url, { commandTimeout: 2000 }), /unable to verify/);
    } finally {
      await own.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says which package to install when etcd3 is missing', async () => {
    const hooks = new URL('./etcd/no-etcd3.mjs', import.meta.url).href;
    const script = `import { connect } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
      try { await connect(${JSON.stringify(cluster().url)}); console.log('connected'); }
      catch (e) { console.log(e.name + ': ' + e.message); }`;
    const { stdout } = await run(process.execPath, [
      '--import',
      'tsx',
      '--import',
      hooks,
      '--input-type=module',
      '-e',
      script,
    ]);
    assert.equal(stdout.trim(), `${BackendError.name}: the etcd backend needs the "etcd3" package: npm install etcd3`);
  });
});

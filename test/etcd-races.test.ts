/**
 * The two races the leader-kill stress run found in the etcd backend (fixed in cf06bc2), made
 * deterministic: a real etcd member, and one client whose answers from it are held back at the
 * transport seam (requests still reach the cluster and take effect; only the replies wait), as
 * a leader change or a loaded machine holds them back in the stress run.
 *
 * - A hand-off grant timed from a keep-alive confirmed long ago would reach its client with
 *   little or none of its claim window left: its own expiry of the key, due already, deletes it
 *   while the client goes on inside the lock. It must not be granted so (wake to ask again).
 * - A waiter's local expiry must not delete its key while an ask of that token is in flight,
 *   nor the moment a slow answer arrives: the waiter would be out of the queue while it waits.
 *
 * And one the election stress on etcd found (no replies held back): a waiter whose claim-window
 * lease the cluster dropped while its client still had it (a pause past the claim window) must
 * be queued again on a new lease, not refused with "lease not found".
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import type { IDuplexStream, ILeaseKeepAliveRequest, ILeaseKeepAliveResponse } from 'etcd3';
import type { Backend, HandoffGrant } from '../src/backend.js';
import { EtcdBackend } from '../src/backends/etcd/backend.js';
import { openClient } from '../src/backends/etcd/client.js';
import { open as openEtcd } from '../src/backends/etcd/index.js';
import { entryKey } from '../src/backends/etcd/keys.js';
import { type Compare, EtcdRpc, KeepAliveStream, type RequestOp, type TxnResponse } from '../src/backends/etcd/rpc.js';
import { parseEtcdUrl } from '../src/backends/etcd/url.js';
import { newName, newToken, request } from './contract/backend-support.js';
import { useEtcdCluster } from './helpers/etcd-world.js';
import { sleep, withTimeout } from './helpers/wait.js';

const cluster = useEtcdCluster(1);
const TIMEOUT = 10_000;
const LONG = 60_000;

/** An EtcdRpc whose replies (keep-alives, transactions) can be held back until `release()`. */
class HeldRpc extends EtcdRpc {
  holdKeepAlives = false;
  holdTxns = false;
  readonly #held: (() => void)[] = [];

  release(): void {
    this.holdKeepAlives = false;
    this.holdTxns = false;
    for (const deliver of this.#held.splice(0)) deliver();
  }

  override async txn(compare: Compare[], success: RequestOp[], failure: RequestOp[], what: string) {
    const hold = this.holdTxns;
    const response: TxnResponse = await super.txn(compare, success, failure, what);
    if (hold) await new Promise<void>((resolve) => this.#held.push(resolve));
    return response;
  }

  override keepAliveStream(onEnd: () => void): KeepAliveStream {
    type Stream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;
    const gated = this.client.leaseClient.leaseKeepAlive().then((stream): Stream => {
      const on = (event: string, listener: (...args: unknown[]) => void): Stream => {
        const held = (...args: unknown[]): void => {
          if (this.holdKeepAlives) this.#held.push(() => listener(...args));
          else listener(...args);
        };
        return stream.on(event as 'data', event === 'data' ? held : listener);
      };
      return Object.assign(Object.create(stream) as Stream, { on });
    });
    return new KeepAliveStream(gated, onEnd);
  }
}

interface Opened {
  readonly backend: Backend;
  readonly wakes: { token: string; grant: HandoffGrant | null }[];
}

const opened: Backend[] = [];
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((backend) => backend.close()));
});

async function open(prefix: string, held?: HeldRpc): Promise<Opened> {
  const wakes: Opened['wakes'] = [];
  const context = {
    clientId: `c${randomBytes(6).toString('hex')}`,
    prefix,
    onWake: (token: string, grant: HandoffGrant | null) => void wakes.push({ token, grant }),
    onResync: () => {},
  };
  const backend = held
    ? new EtcdBackend(held, context, TIMEOUT, () => held.client.close())
    : await openEtcd(cluster().url, context, { commandTimeout: TIMEOUT });
  opened.push(backend);
  return { backend, wakes };
}

async function heldRpc(): Promise<HeldRpc> {
  return new HeldRpc(await openClient(parseEtcdUrl(cluster().url), TIMEOUT));
}

describe('etcd races (replies held back)', () => {
  it('a hand-off whose lease was last confirmed long ago wakes its waiter to ask, never with a spent grant', async () => {
    const prefix = `race-${randomBytes(4).toString('hex')}:`;
    const rpc = await heldRpc();
    const [a, b] = [await open(prefix), await open(prefix, rpc)];
    const name = newName();
    const [holder, waiter] = [newToken(), newToken()];
    await a.backend.acquire(request(name, holder));
    // The claim window is what a hand-off grant lasts until its client confirms it.
    const claimTtl = 2000;
    const queued = await b.backend.acquire(request(name, waiter, { enqueue: true, waiterTtl: LONG, claimTtl }));
    assert.equal(queued.granted, false);
    // From now on the cluster still renews b's leases, but b hears of none of it.
    rpc.holdKeepAlives = true;
    const heldFrom = performance.now();
    await sleep(claimTtl / 2 + 200);
    await a.backend.release(name, holder);
    const wake = await withTimeout(
      (async () => {
        while (!b.wakes.some((w) => w.token === waiter)) await sleep(10);
        return b.wakes.find((w) => w.token === waiter);
      })(),
      5000,
      'the waiter to be woken',
    );
    if (wake?.grant) {
      // A grant is placed at its serverTime (µs of this client's monotonic clock on etcd).
      const left = wake.grant.serverTime / 1000 + claimTtl - performance.now();
      assert.ok(left >= claimTtl / 2, `a grant with ${Math.round(left)} ms of its ${claimTtl} ms claim window left`);
    }
    assert.ok(performance.now() - heldFrom > claimTtl / 2);
    // Asking again holds, once a keep-alive sent then is confirmed.
    rpc.release();
    const asked = await b.backend.acquire(request(name, waiter, { enqueue: true, waiterTtl: LONG, claimTtl }));
    assert.equal(asked.granted, true);
    assert.equal((await a.backend.inspect(name))?.holders.length, 1);
  });

  it('a waiter whose claim-window lease the cluster dropped is queued again on a new one, not refused', async () => {
    // As after a pause (SIGSTOP) past the claim window: the cluster expired the lease a client's
    // waiter keys sit on while the client still has it in its pool. Found by the election stress
    // on etcd (a frozen candidate's campaign failed with "requested lease not found" on resume).
    const prefix = `race-${randomBytes(4).toString('hex')}:`;
    const [a, b] = [await open(prefix), await open(prefix)];
    const [first, second] = [newName(), newName()];
    const [holder1, holder2, waiter1, waiter2] = [newToken(), newToken(), newToken(), newToken()];
    await a.backend.acquire(request(first, holder1));
    await a.backend.acquire(request(second, holder2));
    // Long TTLs, the claim window's lease apart from the ttl's: no keep-alive of b's own runs
    // during the test to notice the claim lease is gone.
    const asked = { enqueue: true, waiterTtl: LONG, claimTtl: LONG / 2 };
    assert.equal((await b.backend.acquire(request(first, waiter1, asked))).granted, false);
    const admin = await openClient(parseEtcdUrl(cluster().url), TIMEOUT);
    try {
      const key = entryKey(prefix, first, waiter1);
      const [kv] = (await admin.kv.range({ key: Buffer.from(key) })).kvs;
      assert.ok(kv && kv.lease !== '0', 'the waiter key sits on a lease');
      await admin.leaseClient.leaseRevoke({ ID: kv.lease });
    } finally {
      admin.close();
    }
    const queued = await b.backend.acquire(request(second, waiter2, asked));
    assert.equal(queued.granted, false);
    assert.equal(queued.position, 0);
    assert.equal((await a.backend.inspect(second))?.waiters.length, 1, 'the second waiter is queued');
  });

  it('a waiter stays queued while an ask of its token outlasts its entry, and after the answer', async () => {
    const prefix = `race-${randomBytes(4).toString('hex')}:`;
    const rpc = await heldRpc();
    const [a, b] = [await open(prefix), await open(prefix, rpc)];
    const name = newName();
    const [holder, waiter] = [newToken(), newToken()];
    await a.backend.acquire(request(name, holder));
    const waiterTtl = 1000;
    const ask = () => b.backend.acquire(request(name, waiter, { enqueue: true, waiterTtl }));
    assert.equal((await ask()).granted, false);
    // The next ask reaches the cluster, but its answer takes longer than the entry lives.
    rpc.holdTxns = true;
    const inFlight = ask();
    await sleep(waiterTtl + 300);
    rpc.release();
    const answer = await inFlight;
    assert.deepEqual([answer.granted, answer.granted ? null : answer.position], [false, 0]);
    // Two turns of the event loop: a local expiry already due would have run by now.
    await sleep(50);
    assert.equal((await a.backend.inspect(name))?.waiters.length, 1, 'the waiter is still queued');
    await a.backend.release(name, holder);
    assert.equal((await ask()).granted, true, 'and holds once the holder leaves');
  });
});

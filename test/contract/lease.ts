/**
 * Lease contract (DESIGN.md semantics 2, 3, 4): ownership by token, renewal, the local deadline,
 * lease-loss signalling, release that never frees another holder, withLock and `await using`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeaseLostError } from '../../src/index.js';
import { aborted, withTimeout } from '../helpers/wait.js';
import type { WorldFactory } from '../helpers/world.js';
import { clients, EVENT, holderFences, PAST_SHORT_TTL, SHORT_TTL, useWorld } from './support.js';

export function leaseContract(factory: WorldFactory): void {
  describe('lease', () => {
    const world = useWorld(factory);

    it('carries its name, an unguessable token, a bigint fence, permits and ttl', async () => {
      const [a] = await clients(world(), 1);
      const one = await a.mutex('m', { ttl: 1234 }).tryAcquire();
      const two = await a.mutex('n').tryAcquire();
      assert.ok(one && two);
      assert.equal(one.name, 'm');
      assert.equal(typeof one.token, 'string');
      assert.ok(one.token.length >= 22, `token too short for 128 bits: ${one.token}`);
      assert.notEqual(one.token, two.token);
      assert.equal(typeof one.fence, 'bigint');
      assert.equal(one.permits, 1);
      assert.equal(one.ttl, 1234);
      assert.equal(two.ttl, 10_000, 'default ttl');
      assert.equal(one.valid, true);
      assert.equal(one.signal.aborted, false);
      await one.release();
      await two.release();
    });

    it('renews itself past several TTLs; nobody else can acquire meanwhile', async () => {
      const w = world();
      const [a, b] = await clients(w, 2);
      const lease = await a.mutex('m', { ttl: SHORT_TTL }).tryAcquire();
      assert.ok(lease);
      for (let i = 0; i < 12; i++) {
        await w.advance(SHORT_TTL / 4);
        assert.equal(lease.valid, true, `lost after ${((i + 1) * SHORT_TTL) / 4} ms`);
      }
      assert.equal(await b.mutex('m').tryAcquire(), null);
      assert.equal(lease.signal.aborted, false);
      assert.equal(await lease.release(), true);
    });

    it('turns invalid at its local deadline without autoExtend, and says so', async () => {
      const w = world();
      const [a] = await clients(w, 1);
      const lease = await a.mutex('m', { ttl: SHORT_TTL, autoExtend: false }).tryAcquire();
      assert.ok(lease);
      await w.advance(SHORT_TTL / 2);
      assert.equal(lease.valid, true);
      await w.advance(SHORT_TTL);
      assert.equal(lease.valid, false);
      const reason = await withTimeout(aborted(lease.signal), EVENT, 'the signal to abort at the deadline');
      assert.ok(reason instanceof LeaseLostError, `reason: ${String(reason)}`);
      await assert.rejects(lease.extend(), LeaseLostError);
    });

    it('is invalid the instant its deadline passes, even while the event loop is stalled', async () => {
      const w = world();
      const [a] = await clients(w, 1);
      // autoExtend is on: only a stall (no renewal can run) lets the deadline pass.
      const lease = await a.mutex('m', { ttl: SHORT_TTL }).tryAcquire();
      assert.ok(lease);
      if (w.fake) {
        // A fake clock moves only through advance(), which runs every timer: no stall to make.
        await w.advance(SHORT_TTL * 2);
        assert.equal(lease.valid, true, 'renewed while the loop ran');
      } else {
        const start = performance.now();
        while (performance.now() - start < PAST_SHORT_TTL) {
          // a synchronous stall: no timer, no reply, no abort can run here
        }
        assert.equal(lease.valid, false, 'valid after its deadline passed during a stall');
        const reason = await withTimeout(aborted(lease.signal), EVENT, 'the abort once the loop runs');
        assert.ok(reason instanceof LeaseLostError, `reason: ${String(reason)}`);
      }
    });

    it('extend(ms) re-arms the lease for ms from now', async () => {
      const w = world();
      const [a] = await clients(w, 1);
      const lease = await a.mutex('m', { ttl: SHORT_TTL, autoExtend: false }).tryAcquire();
      assert.ok(lease);
      await w.advance(SHORT_TTL / 2);
      await lease.extend(4 * SHORT_TTL);
      await w.advance(SHORT_TTL);
      assert.equal(lease.valid, true, 'valid past the original ttl');
      const holder = (await a.inspect('m'))?.holders[0];
      assert.ok(holder);
      assert.ok(holder.expiresIn > 2 * SHORT_TTL && holder.expiresIn <= 4 * SHORT_TTL, `expiresIn ${holder.expiresIn}`);
      assert.equal(await lease.release(), true);
    });

    it('is lost when force-released: extend() rejects and the signal aborts with LeaseLostError', async () => {
      const [a, b] = await clients(world(), 2);
      const lease = await a.mutex('m').tryAcquire();
      assert.ok(lease);
      assert.equal(await b.forceRelease('m'), 1);
      await assert.rejects(lease.extend(), LeaseLostError);
      assert.ok(lease.signal.reason instanceof LeaseLostError);
      assert.equal(lease.valid, false);
    });

    it('learns of a force-release at its next renewal', async () => {
      const w = world();
      const [a, b] = await clients(w, 2);
      const lease = await a.mutex('m', { ttl: SHORT_TTL }).tryAcquire();
      assert.ok(lease);
      const lost = aborted(lease.signal);
      assert.equal(await b.forceRelease('m'), 1);
      await w.advance(SHORT_TTL / 2); // past the renewal at about ttl/3
      const reason = await withTimeout(lost, EVENT, 'the signal to abort at the next renewal');
      assert.ok(reason instanceof LeaseLostError, `reason: ${String(reason)}`);
      assert.equal(lease.valid, false);
      assert.equal(await lease.release(), false);
    });

    it('releases once: the second release returns false and frees nobody else', async () => {
      const [a, b, c] = await clients(world(), 3);
      const first = await a.mutex('m').tryAcquire();
      assert.ok(first);
      assert.equal(await first.release(), true);
      assert.equal(first.valid, false);
      assert.equal(first.signal.aborted, true);
      const other = await b.mutex('m').tryAcquire();
      assert.ok(other);
      assert.equal(await first.release(), false);
      assert.equal(await c.mutex('m').tryAcquire(), null, 'the second release freed another holder');
      assert.deepEqual(await holderFences(c, 'm'), [other.fence]);
      assert.equal(other.valid, true);
      await other.release();
    });

    it('a stale lease cannot release the lock that expired from under it', async () => {
      const w = world();
      const [a, b, c] = await clients(w, 3);
      const stale = await a.mutex('m', { ttl: SHORT_TTL, autoExtend: false }).tryAcquire();
      assert.ok(stale);
      await w.advance(PAST_SHORT_TTL);
      const current = await b.mutex('m').tryAcquire();
      assert.ok(current, 'free after expiry');
      assert.equal(await stale.release(), false);
      assert.equal(await c.mutex('m').tryAcquire(), null);
      assert.deepEqual(await holderFences(c, 'm'), [current.fence]);
      await current.release();
    });

    it('withLock returns the value and releases; on throw it rethrows and releases', async () => {
      const [a, b] = await clients(world(), 2);
      let seen: { valid: boolean } | undefined;
      const value = await a.mutex('m').withLock(async (lease) => {
        seen = lease;
        assert.equal(lease.valid, true);
        assert.equal(await b.mutex('m').tryAcquire(), null);
        return 42;
      });
      assert.equal(value, 42);
      assert.equal(seen?.valid, false);
      const boom = new Error('boom');
      await assert.rejects(
        a.mutex('m').withLock(() => {
          throw boom;
        }),
        (e) => e === boom,
      );
      const after = await b.mutex('m').tryAcquire();
      assert.ok(after, 'withLock released after the throw');
      await after.release();
    });

    it('`await using` releases at the end of the block', async () => {
      const [a, b] = await clients(world(), 2);
      {
        await using lease = await a.mutex('m').acquire();
        assert.equal(lease.valid, true);
        assert.equal(await b.mutex('m').tryAcquire(), null);
      }
      const after = await b.mutex('m').tryAcquire();
      assert.ok(after, 'released at block end');
      await after.release();
    });
  });
}

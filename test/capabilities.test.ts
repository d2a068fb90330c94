/**
 * The layered contract: what `hf.capabilities` says, UnsupportedError for a primitive the
 * backend cannot hold (at construction, before any I/O), and waiting on a backend that pushes
 * no wake-ups (`wakeups: 'poll'`), driven by a fake clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend, BackendContext, Capabilities } from '../src/backend.js';
import { MemoryBackend } from '../src/backends/memory/backend.js';
import { requireCapability, requireLockKind, requireRateAlgorithm } from '../src/capabilities.js';
import { Holdfast } from '../src/client.js';
import { DEFAULT_WAITER_TTL } from '../src/defaults.js';
import { ClientCore, newClientId } from '../src/engine/core.js';
import { POLL_INTERVAL_MS } from '../src/engine/waiter.js';
import { cached, connect, MemoryStore, UnsupportedError } from '../src/index.js';
import { FakeClock } from '../src/testing/index.js';

function client(store: MemoryStore, wrap: (backend: MemoryBackend) => Backend = (b) => b, wakeups?: 'poll'): Holdfast {
  let core: ClientCore | undefined;
  const context: BackendContext = {
    clientId: newClientId(),
    prefix: 'holdfast:',
    onWake: (token, grant, retryAfter) => core?.wake(token, grant, retryAfter),
    onResync: () => core?.resync(),
  };
  const backend = new MemoryBackend(store, context, wakeups === undefined ? {} : { wakeups });
  core = new ClientCore(wrap(backend), store.clock, DEFAULT_WAITER_TTL);
  return new Holdfast(core);
}

/**
 * The memory engine declaring less than it has, as a quorum or etcd backend will: the same
 * engine behind a narrower `capabilities`, without the capabilities it no longer declares.
 */
function declaring(capabilities: Capabilities): (backend: MemoryBackend) => Backend {
  return (backend) => ({
    label: 'narrow',
    clientId: backend.clientId,
    capabilities,
    acquire: (request) => backend.acquire(request),
    release: (name, token) => backend.release(name, token),
    extend: (request) => backend.extend(request),
    extendMany: (requests) => backend.extendMany(requests),
    inspect: (name) => backend.inspect(name),
    list: (pattern) => backend.list(pattern),
    forceRelease: (name) => backend.forceRelease(name),
    close: () => backend.close(),
    ...(capabilities.rateAlgorithms.length > 0 ? { rates: backend.rates } : {}),
    ...(capabilities.events ? { events: backend.events } : {}),
    ...(capabilities.values ? { values: backend.values } : {}),
  });
}

const MUTEX_ONLY: Capabilities = {
  locks: ['mutex'],
  wakeups: 'poll',
  rateAlgorithms: [],
  events: false,
  values: false,
};

describe('capabilities', () => {
  it('memory://, and every backend so far, declares everything', async () => {
    const hf = await connect('memory://');
    try {
      assert.deepEqual(hf.capabilities, {
        locks: ['mutex', 'semaphore', 'rwlock', 'election'],
        wakeups: 'grant',
        rateAlgorithms: ['sliding-window', 'token-bucket', 'fixed-window'],
        events: true,
        values: true,
      });
    } finally {
      await hf.close();
    }
  });

  it('a primitive the backend cannot hold throws UnsupportedError at construction', async () => {
    const hf = client(new MemoryStore(), declaring(MUTEX_ONLY));
    try {
      assert.ok(hf.mutex('m'), 'what it declares works');
      const cases: [string, () => unknown, string][] = [
        ['semaphore', () => hf.semaphore('agent:7', { permits: 3 }), 'semaphore'],
        ['rwlock', () => hf.rwlock('rw'), 'rwlock'],
        ['election', () => hf.election('e'), 'election'],
        ['rateLimiter', () => hf.rateLimiter('r', { limit: 1, window: 1000 }), 'rates'],
        ['watch', () => hf.watch('*'), 'events'],
      ];
      for (const [what, make, capability] of cases) {
        assert.throws(make, (error: unknown) => {
          assert.ok(error instanceof UnsupportedError, `${what}: ${String(error)}`);
          assert.equal(error.code, 'UNSUPPORTED');
          assert.equal(error.backend, 'narrow');
          assert.equal(error.capability, capability);
          assert.match(error.message, /the narrow backend/);
          return true;
        });
      }
      await assert.rejects(
        cached(hf, 'k', () => 1, { ttl: 1000 }),
        UnsupportedError,
        'cached without a store',
      );
      assert.equal(await cached(hf, 'k', () => 1, { ttl: 1000, store: memoryStoreForTest() }), 1, 'with a store');
    } finally {
      await hf.close();
    }
  });

  it('a rate algorithm the backend does not hold exactly is refused by name', async () => {
    const caps: Capabilities = { ...MUTEX_ONLY, rateAlgorithms: ['fixed-window'] };
    const hf = client(new MemoryStore(), declaring(caps));
    try {
      assert.ok(hf.rateLimiter('r', { limit: 1, window: 1000, algorithm: 'fixed-window' }));
      assert.throws(
        () => hf.rateLimiter('r', { limit: 1, window: 1000 }),
        (error: unknown) => error instanceof UnsupportedError && error.capability === 'rates:sliding-window',
      );
    } finally {
      await hf.close();
    }
  });

  it('the checks pass what is declared and return the capability itself', async () => {
    const store = new MemoryStore();
    const backend = new MemoryBackend(store, {
      clientId: 'c',
      prefix: 'p:',
      onWake: () => {},
      onResync: () => {},
    });
    assert.equal(requireCapability(backend, 'values', 'test'), backend.values);
    assert.equal(requireRateAlgorithm(backend, 'token-bucket', 'test'), backend.rates);
    requireLockKind(backend, 'semaphore', 'test');
    await backend.close();
  });
});

describe("waiting on a backend without wake-ups (wakeups: 'poll')", () => {
  for (const wakeups of ['grant', 'poll'] as const) {
    it(`${wakeups}: a waiter takes a lock released early ${wakeups === 'poll' ? 'at its next poll' : 'at once'}`, async () => {
      const clock = new FakeClock();
      const store = new MemoryStore({ clock });
      const a = client(store);
      const b = client(store, undefined, wakeups === 'poll' ? 'poll' : undefined);
      try {
        assert.equal(b.capabilities.wakeups, wakeups);
        const lease = await a.mutex('m', { ttl: 60_000 }).tryAcquire();
        assert.ok(lease);
        let got = false;
        const waiting = b
          .mutex('m', { ttl: 60_000 })
          .acquire()
          .then((l) => {
            got = true;
            return l;
          });
        await clock.advance(1);
        assert.equal((await a.inspect('m'))?.waiters.length, 1, 'queued');
        await lease.release();
        await clock.advance(1);
        // Without a push the release is noticed only when the waiter asks again: no sooner
        // than the poll interval, long before the holder's TTL (60 s) or the refresh (2 s).
        assert.equal(got, wakeups === 'grant', 'a push hands it over at once; a poll waits');
        await clock.advance(POLL_INTERVAL_MS);
        assert.equal(got, true, 'held after one poll interval');
        await (await waiting).release();
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  }

  it('poll: the head waiter takes over at the very ms a crashed holder expires (it asks exactly then)', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock });
    const a = client(store);
    const b = client(store, undefined, 'poll');
    try {
      // Not a multiple of the poll interval: the take-over comes from the queued acquire's
      // retryAfter, not from a poll that happens to fall on the expiry.
      const ttl = 4 * POLL_INTERVAL_MS + 100;
      const holder = await a.mutex('m', { ttl, autoExtend: false }).tryAcquire();
      assert.ok(holder);
      holder.detach(); // crashed: nothing releases it, only the backend's TTL frees it
      let got = false;
      const waiting = b
        .mutex('m')
        .acquire()
        .then((l) => {
          got = true;
          return l;
        });
      await clock.advance(ttl - 1);
      assert.equal(got, false, 'not before the TTL runs out');
      await clock.advance(1);
      assert.equal(got, true, 'at the ms it runs out: no whole-ms rounding, no guard');
      const lease = await waiting;
      assert.ok(lease.fence > holder.fence);
      await lease.release();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("poll: a rate limiter's head waiter is admitted when its slot opens, to the µs (it asks exactly then)", async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock });
    const a = client(store);
    const b = client(store, undefined, 'poll');
    try {
      const options = { limit: 1, window: 1000 };
      // The one admission at 0.4 ms leaves the window at 1000.4 ms. The waiter asks at 0.9 ms
      // and then at each poll: 999.5 ms to wait then, 249.5 after its third poll (750.9 ms).
      // Rounded up to whole ms, it would ask again at 1000.9 ms.
      await clock.advance(0.4);
      assert.equal((await a.rateLimiter('r', options).tryTake()).allowed, true);
      await clock.advance(0.5);
      let got = false;
      const waiting = b
        .rateLimiter('r', options)
        .take()
        .then((result) => {
          got = true;
          return result;
        });
      await clock.advance(999.45); // 1000.35 ms
      assert.equal(got, false, 'not before the slot opens');
      await clock.advance(0.1); // 1000.45 ms
      assert.equal(got, true, 'admitted at the slot: no whole-ms rounding');
      assert.equal((await waiting).allowed, true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

function memoryStoreForTest() {
  const values = new Map<string, string>();
  return {
    get: async (key: string) => values.get(key),
    set: async (key: string, value: string) => {
      values.set(key, value);
    },
  };
}

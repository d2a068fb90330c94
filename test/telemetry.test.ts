/**
 * Metrics and spans through @opentelemetry/api, read back with the SDK's in-memory readers
 * (test/helpers/otel.ts), on the memory backend: a real clock where a wait is measured against
 * the time another client held the lock, a fake one for renewals, losses and timeouts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { connect, type Holdfast, LockTimeoutError, MemoryStore, ValidationError } from '../src/index.js';
import { createTelemetry, parseTelemetry } from '../src/telemetry/options.js';
import { NO_TELEMETRY } from '../src/telemetry/telemetry.js';
import { FakeClock } from '../src/testing/index.js';
import { realClock } from '../src/util/clock.js';
import { type OtelHarness as Harness, OtelHarness, spanMs } from './helpers/otel.js';
import { untilQueued } from './helpers/queue.js';
import { withTimeout } from './helpers/wait.js';

const KIND = 'holdfast.lock.kind';
const MODE = 'holdfast.acquire.mode';
const OUTCOME = 'holdfast.acquire.outcome';
const NAME = 'holdfast.lock.name';

function observed(otel: Harness, store: MemoryStore, lockNames = false): Promise<Holdfast> {
  const { meterProvider, tracerProvider } = otel;
  return connect({ memory: store }, { telemetry: { meterProvider, tracerProvider, lockNames } });
}

describe('telemetry without a provider', () => {
  it('is the no-op when nothing is registered or passed, and when turned off', () => {
    assert.equal(createTelemetry(parseTelemetry(undefined), realClock), NO_TELEMETRY);
    assert.equal(createTelemetry(parseTelemetry({ lockNames: true }), realClock), NO_TELEMETRY);
    const meterProvider = new MeterProvider();
    assert.notEqual(createTelemetry(parseTelemetry({ meterProvider }), realClock), NO_TELEMETRY);
    assert.equal(createTelemetry(parseTelemetry(false), realClock), NO_TELEMETRY);
  });

  it('follows global providers registered before connect()', () => {
    try {
      metrics.setGlobalMeterProvider(new MeterProvider());
      assert.notEqual(createTelemetry(parseTelemetry(undefined), realClock), NO_TELEMETRY);
      metrics.disable();
      trace.setGlobalTracerProvider(new BasicTracerProvider());
      assert.notEqual(createTelemetry(parseTelemetry(undefined), realClock), NO_TELEMETRY);
      assert.equal(createTelemetry(parseTelemetry(false), realClock), NO_TELEMETRY);
    } finally {
      metrics.disable();
      trace.disable();
    }
  });

  it('refuses a malformed telemetry option before any I/O', async () => {
    await assert.rejects(connect('memory://', { telemetry: { lockNames: 'yes' as never } }), ValidationError);
    await assert.rejects(connect('memory://', { telemetry: { names: true } as never }), ValidationError);
    await assert.rejects(connect('memory://', { telemetry: { meterProvider: {} as never } }), ValidationError);
  });
});

describe('telemetry of a wait, on a real clock', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  before(() => {
    context.setGlobalContextManager(contextManager.enable());
  });
  after(() => {
    context.disable();
  });

  it('measures a wait at least as long as the other holder kept the lock, and a hand-off', async () => {
    const store = new MemoryStore();
    const otel = new OtelHarness();
    const holder = await connect({ memory: store });
    const waiter = await observed(otel, store);
    try {
      const held = await holder.mutex('job', { ttl: 30_000 }).acquire();
      const request = otel.tracerProvider.getTracer('test').startSpan('request');
      const inRequest = trace.setSpan(context.active(), request);
      const pending = context.with(inRequest, () => waiter.mutex('job', { ttl: 30_000 }).acquire({ wait: 60_000 }));
      // The acquisition (and its clock) started inside the call above, so no later than this.
      const calledBy = performance.now();
      await untilQueued(holder, 'job', 1);
      assert.equal(await otel.sum('holdfast.queue.depth', { [KIND]: 'mutex' }), 1);
      await sleep(100);
      const releasedAt = performance.now();
      await held.release();
      const lease = await withTimeout(pending, 20_000, 'the hand-off');
      const heldMs = releasedAt - calledBy;

      const [wait, ...others] = await otel.histogram('holdfast.acquire.duration', { [MODE]: 'wait' });
      assert.equal(others.length, 0);
      assert.ok(wait);
      assert.equal(wait.count, 1);
      const waitedMs = (wait.sum ?? 0) * 1000;
      assert.ok(waitedMs >= heldMs, `waited ${waitedMs} ms, held by the other ${heldMs} ms`);
      const points = await otel.points('holdfast.acquire.duration');
      assert.deepEqual(points[0]?.attributes, { [KIND]: 'mutex', [MODE]: 'wait', [OUTCOME]: 'acquired' });
      assert.equal(await otel.sum('holdfast.handoffs', { [KIND]: 'mutex' }), 1);
      assert.equal(await otel.sum('holdfast.queue.depth', { [KIND]: 'mutex' }), 0);
      assert.equal(await otel.sum('holdfast.leases.held', { [KIND]: 'mutex' }), 1);

      await lease.release();
      request.end();
      assert.equal(await otel.sum('holdfast.leases.held', { [KIND]: 'mutex' }), 0);
      const [hold] = await otel.histogram('holdfast.lease.duration', { 'holdfast.lease.end': 'released' });
      assert.equal(hold?.count, 1);

      // The request's trace shows the wait, then the hold, both as its children.
      const [acquireSpan] = otel.spans('holdfast.acquire');
      const [leaseSpan] = otel.spans('holdfast.lease');
      assert.ok(acquireSpan && leaseSpan);
      assert.ok(spanMs(acquireSpan) >= heldMs - 1, `acquire span ${spanMs(acquireSpan)} ms, held ${heldMs} ms`);
      assert.equal(acquireSpan.attributes['holdfast.acquire.grant'], 'handoff');
      assert.equal(acquireSpan.attributes[OUTCOME], 'acquired');
      assert.equal(leaseSpan.attributes['holdfast.lease.fence'], lease.fence.toString());
      assert.equal(leaseSpan.attributes['holdfast.lease.end'], 'released');
      for (const span of [acquireSpan, leaseSpan]) {
        assert.equal(span.parentSpanContext?.spanId, request.spanContext().spanId);
        assert.equal(span.spanContext().traceId, request.spanContext().traceId);
        assert.equal(span.attributes[NAME], undefined, 'no lock names unless opted in');
      }
    } finally {
      await Promise.all([holder.close(), waiter.close()]);
      await otel.shutdown();
    }
  });
});

describe('telemetry on a fake clock', () => {
  let clock: FakeClock;
  let store: MemoryStore;
  let otel: OtelHarness;
  let hf: Holdfast;
  let admin: Holdfast;
  before(async () => {
    clock = new FakeClock();
    store = new MemoryStore({ clock });
    otel = new OtelHarness();
    hf = await observed(otel, store);
    admin = await connect({ memory: store });
  });
  after(async () => {
    await Promise.all([hf.close(), admin.close()]);
    await otel.shutdown();
  });

  it('counts renewals, a loss to a force-release and a loss at the local deadline', async () => {
    const lease = await hf.mutex('renewed', { ttl: 3000 }).acquire();
    await clock.advance(1100);
    assert.equal(await otel.sum('holdfast.renewals', { 'holdfast.renewal.outcome': 'renewed' }), 1);
    await admin.forceRelease('renewed');
    await clock.advance(1100);
    assert.equal(lease.valid, false);
    assert.equal(await otel.sum('holdfast.renewals', { 'holdfast.renewal.outcome': 'refused' }), 1);
    assert.equal(await otel.sum('holdfast.leases.lost', { 'holdfast.lease.lost_reason': 'refused' }), 1);
    const [lost] = await otel.histogram('holdfast.lease.duration', { 'holdfast.lease.end': 'lost' });
    // Granted at 0, refused at the second renewal (at 2000 on the fake clock).
    assert.ok(lost && lost.count === 1 && (lost.sum ?? 0) >= 1.9 && (lost.sum ?? 0) <= 2.2, `held ${lost?.sum} s`);

    await hf.mutex('fixed', { ttl: 1000, autoExtend: false }).acquire();
    await clock.advance(1000);
    assert.equal(await otel.sum('holdfast.leases.lost', { 'holdfast.lease.lost_reason': 'deadline' }), 1);
    assert.equal(await otel.sum('holdfast.leases.held'), 0);
    const lostSpans = otel.spans('holdfast.lease').filter((s) => s.attributes['holdfast.lease.end'] === 'lost');
    assert.deepEqual(lostSpans.map((s) => s.attributes['holdfast.lease.lost_reason']).sort(), ['deadline', 'refused']);
    assert.ok(lostSpans.every((s) => s.status.code === 2));
  });

  it('reports a refused try, a timeout, an abort and the kind of each', async () => {
    const held = await admin.mutex('busy', { ttl: 60_000 }).acquire();
    assert.equal(await hf.mutex('busy').tryAcquire(), null);
    const timingOut = assert.rejects(hf.mutex('busy').acquire({ wait: 50 }), LockTimeoutError);
    await clock.advance(60);
    await timingOut;
    const abort = new AbortController();
    const aborted = hf.mutex('busy').acquire({ signal: abort.signal });
    abort.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    const permit = await hf.semaphore('pool', { permits: 2 }).tryAcquire();
    assert.ok(permit);

    const count = async (attributes: Record<string, string>): Promise<number> =>
      (await otel.histogram('holdfast.acquire.duration', attributes)).reduce((n, h) => n + h.count, 0);
    assert.equal(await count({ [KIND]: 'mutex', [MODE]: 'try', [OUTCOME]: 'busy' }), 1);
    assert.equal(await count({ [KIND]: 'mutex', [MODE]: 'wait', [OUTCOME]: 'timeout' }), 1);
    assert.equal(await count({ [KIND]: 'mutex', [MODE]: 'wait', [OUTCOME]: 'aborted' }), 1);
    assert.equal(await count({ [KIND]: 'semaphore', [MODE]: 'try', [OUTCOME]: 'acquired' }), 1);
    assert.equal(await otel.sum('holdfast.timeouts', { [KIND]: 'mutex' }), 1);
    assert.equal(await otel.sum('holdfast.queue.depth', { [KIND]: 'mutex' }), 0);
    const timedOut = otel.spans('holdfast.acquire').find((s) => s.attributes[OUTCOME] === 'timeout');
    assert.equal(timedOut?.status.code, 2);
    await Promise.all([held.release(), permit.release()]);
  });

  it('counts rate-limiter decisions: the backend, a remembered refusal, a waiting take', async () => {
    const limiter = hf.rateLimiter('api', { limit: 1, window: 1000 });
    assert.equal((await limiter.tryTake()).allowed, true);
    assert.equal((await limiter.tryTake()).allowed, false);
    assert.equal((await limiter.tryTake()).allowed, false);
    const taking = limiter.take(1, { wait: 10_000 });
    await clock.advance(1001);
    assert.equal((await taking).allowed, true);

    const decisions = async (attributes: Record<string, string>): Promise<number> =>
      otel.sum('holdfast.rate.decisions', { [KIND]: 'rate-limiter', ...attributes });
    const tries = { 'holdfast.rate.mode': 'try' };
    assert.equal(
      await decisions({ ...tries, 'holdfast.rate.outcome': 'allowed', 'holdfast.rate.source': 'backend' }),
      1,
    );
    assert.equal(
      await decisions({ ...tries, 'holdfast.rate.outcome': 'refused', 'holdfast.rate.source': 'backend' }),
      1,
    );
    assert.equal(await decisions({ ...tries, 'holdfast.rate.outcome': 'refused', 'holdfast.rate.source': 'local' }), 1);
    assert.equal(await decisions({ 'holdfast.rate.mode': 'wait', 'holdfast.rate.outcome': 'allowed' }), 1);
    const [wait] = await otel.histogram('holdfast.acquire.duration', { [KIND]: 'rate-limiter' });
    assert.ok(wait && wait.count === 1 && (wait.sum ?? 0) >= 0.9, `waited ${wait?.sum} s on the fake clock`);
    assert.equal(otel.spans('holdfast.rate.take').length, 1);
  });
});

describe('telemetry with lock names opted in', () => {
  it('names the lock on metrics and spans', async () => {
    const otel = new OtelHarness();
    const hf = await observed(otel, new MemoryStore(), true);
    try {
      const lease = await hf.mutex('orders:42').acquire();
      await lease.release();
      const points = await otel.points('holdfast.acquire.duration');
      assert.deepEqual(
        points.map((p) => p.attributes[NAME]),
        ['orders:42'],
      );
      assert.equal(await otel.sum('holdfast.leases.held', { [NAME]: 'orders:42' }), 0);
      assert.ok(otel.spans().every((span) => span.attributes[NAME] === 'orders:42'));
    } finally {
      await hf.close();
      await otel.shutdown();
    }
  });
});

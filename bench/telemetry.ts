/**
 * What telemetry costs: mutex acquire+release on the memory backend (no I/O, so the client's own
 * work is all there is to measure), sequential, without a provider (the default: the engine's
 * hooks call the no-op) and with the OpenTelemetry SDK recording metrics and spans (spans batched
 * to an exporter that drops them). The two run in alternating rounds so load on the machine
 * hits both alike; each figure is the median of its rounds. The no-op hooks are also timed
 * alone, to show their cost next to the rounds' own spread.
 */

import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { connect, type Holdfast, MemoryStore } from 'holdfast';
import { NO_TELEMETRY } from '../src/telemetry/telemetry.js';
import { percentile } from './stats.js';

const ROUNDS = 7;
const ROUND_MS = 400;
const WARMUP_MS = 800;
const HOOK_CALLS = 5_000_000;

class IdleReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Takes spans off the processor's hands and drops them: the cost of recording, not of shipping. */
const dropSpans: SpanExporter = {
  export(_spans: ReadableSpan[], done) {
    done({ code: 0 });
  },
  async shutdown() {},
};

/** µs per acquire+release over `ms`. */
async function perOp(hf: Holdfast, ms: number): Promise<number> {
  const mutex = hf.mutex('bench:telemetry', { ttl: 10_000 });
  let ops = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) await (await mutex.acquire()).release();
    ops += 100;
  }
  return ((performance.now() - start) * 1000) / ops;
}

/** ns per acquire+release's worth of no-op hook calls (acquiring, granted, two renewals, ended). */
function noopHooks(): number {
  let sink = 0;
  const start = performance.now();
  for (let i = 0; i < HOOK_CALLS; i++) {
    const acquisition = NO_TELEMETRY.acquiring('mutex', 'bench:telemetry', true);
    const lease = acquisition.granted('immediate', 1n);
    lease.renewal('renewed');
    lease.ended('released');
    sink += i;
  }
  const ns = ((performance.now() - start) * 1e6) / HOOK_CALLS;
  return sink < 0 ? Number.NaN : ns;
}

export interface TelemetryCost {
  readonly without: number;
  readonly withSdk: number;
  /** The spread of the rounds without a provider: (max − min) / median. */
  readonly spread: number;
  readonly hooksNs: number;
}

export async function runTelemetry(): Promise<TelemetryCost> {
  const store = new MemoryStore();
  const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropSpans)] });
  const plain = await connect({ memory: store });
  const observed = await connect({ memory: store }, { telemetry: { meterProvider, tracerProvider } });
  try {
    await perOp(plain, WARMUP_MS);
    await perOp(observed, WARMUP_MS);
    const without: number[] = [];
    const withSdk: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      without.push(await perOp(plain, ROUND_MS));
      withSdk.push(await perOp(observed, ROUND_MS));
    }
    const median = percentile(without, 50);
    return {
      without: median,
      withSdk: percentile(withSdk, 50),
      spread: (Math.max(...without) - Math.min(...without)) / median,
      hooksNs: noopHooks(),
    };
  } finally {
    await Promise.all([plain.close(), observed.close()]);
    await Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]);
  }
}

export function renderTelemetry(cost: TelemetryCost): string {
  const extra = cost.withSdk - cost.without;
  const hooksShare = (cost.hooksNs / 1000 / cost.without) * 100;
  const halfSpread = (cost.spread / 2) * 100;
  const verdict = hooksShare < halfSpread ? 'below' : 'NOT below';
  return [
    `telemetry (memory backend, mutex acquire+release, sequential, median of ${ROUNDS} alternating rounds of ${ROUND_MS} ms):`,
    `  no provider (the default)          ${cost.without.toFixed(2)} µs/op   (rounds spread ±${halfSpread.toFixed(1)} %)`,
    `  OpenTelemetry SDK, metrics + spans ${cost.withSdk.toFixed(2)} µs/op   (+${extra.toFixed(2)} µs, +${((extra / cost.without) * 100).toFixed(0)} %)`,
    `  the no-op hooks alone              ${cost.hooksNs.toFixed(1)} ns per acquire+release (${hooksShare.toFixed(2)} % of it: ${verdict} the rounds' spread)`,
  ].join('\n');
}

/**
 * OpenTelemetry's SDK with in-memory readers: a metric reader collected on demand and a span
 * exporter that keeps every ended span, for asserting what holdfast reported.
 */
import type { Attributes } from '@opentelemetry/api';
import { type DataPoint, type Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export interface Point<V> {
  readonly attributes: Attributes;
  readonly value: V;
}

export class OtelHarness {
  readonly meterProvider: MeterProvider;
  readonly tracerProvider: BasicTracerProvider;
  readonly #reader = new CollectingReader();
  readonly #spans = new InMemorySpanExporter();

  constructor() {
    this.meterProvider = new MeterProvider({ readers: [this.#reader] });
    this.tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.#spans)] });
  }

  /** Every data point of `metric` now. */
  async points<V = number>(metric: string): Promise<Point<V>[]> {
    const { resourceMetrics, errors } = await this.#reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
    const found: Point<V>[] = [];
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const data of scope.metrics) {
        if (data.descriptor.name !== metric) continue;
        for (const point of data.dataPoints as DataPoint<V>[]) {
          found.push({ attributes: point.attributes, value: point.value });
        }
      }
    }
    return found;
  }

  /** The value of the one point of `metric` whose attributes include `match` (0 if none). */
  async sum(metric: string, match: Attributes = {}): Promise<number> {
    let total = 0;
    for (const point of await this.points<number>(metric)) if (matches(point.attributes, match)) total += point.value;
    return total;
  }

  async histogram(metric: string, match: Attributes = {}): Promise<Histogram[]> {
    return (await this.points<Histogram>(metric)).filter((p) => matches(p.attributes, match)).map((p) => p.value);
  }

  spans(name?: string): ReadableSpan[] {
    return this.#spans.getFinishedSpans().filter((span) => name === undefined || span.name === name);
  }

  async shutdown(): Promise<void> {
    await Promise.all([this.meterProvider.shutdown(), this.tracerProvider.shutdown()]);
  }
}

export function matches(attributes: Attributes, match: Attributes): boolean {
  return Object.entries(match).every(([key, value]) => attributes[key] === value);
}

/** A span's duration in ms. */
export function spanMs(span: ReadableSpan): number {
  return span.duration[0] * 1000 + span.duration[1] / 1e6;
}

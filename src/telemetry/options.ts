/**
 * `connect(target, { telemetry })`: where a client reports, decided once at connect(). Without
 * a provider — none passed, none registered globally — the client gets NO_TELEMETRY, so an
 * application that does not use OpenTelemetry pays nothing for it.
 */
import {
  createNoopMeter,
  type MeterProvider,
  metrics,
  ProxyTracerProvider,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { ValidationError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { checkBoolean, checkOptions, optional } from '../util/validate.js';
import { OtelTelemetry } from './otel.js';
import { NO_TELEMETRY, type Telemetry } from './telemetry.js';

export interface TelemetryOptions {
  /**
   * Put lock and rate-limiter names on metrics and spans as `holdfast.lock.name` (default false:
   * names are often unbounded — one per user, job or file — and can say more than a metric should).
   */
  readonly lockNames?: boolean;
  /** Default: the global one (registered by the OpenTelemetry SDK), as it is when connect() runs. */
  readonly meterProvider?: MeterProvider;
  /** Default: the global one (registered by the OpenTelemetry SDK), as it is when connect() runs. */
  readonly tracerProvider?: TracerProvider;
}

const KEYS = ['lockNames', 'meterProvider', 'tracerProvider'] as const;
const SCOPE = 'holdfast';

export interface ParsedTelemetry {
  readonly lockNames: boolean;
  readonly meterProvider: MeterProvider | undefined;
  readonly tracerProvider: TracerProvider | undefined;
}

/** Checks the option before any I/O; `false` turns reporting off even with a global provider. */
export function parseTelemetry(raw: unknown): ParsedTelemetry | false {
  if (raw === false) return false;
  const options = checkOptions<TelemetryOptions>(raw ?? {}, KEYS, 'telemetry options');
  return {
    lockNames: optional(options.lockNames, (v) => checkBoolean(v, 'telemetry.lockNames')) ?? false,
    meterProvider: optional(options.meterProvider, (v) => provider<MeterProvider>(v, 'getMeter')),
    tracerProvider: optional(options.tracerProvider, (v) => provider<TracerProvider>(v, 'getTracer')),
  };
}

export function createTelemetry(options: ParsedTelemetry | false, clock: Clock): Telemetry {
  if (options === false) return NO_TELEMETRY;
  const { lockNames, meterProvider, tracerProvider } = options;
  const meter = (meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const globalTracers = trace.getTracerProvider();
  // A global tracer provider is a proxy: it delegates only once the SDK registered one.
  const tracing =
    tracerProvider !== undefined ||
    !(globalTracers instanceof ProxyTracerProvider) ||
    globalTracers.getDelegateTracer(SCOPE) !== undefined;
  if (meter === createNoopMeter() && !tracing) return NO_TELEMETRY;
  const tracer = (tracerProvider ?? globalTracers).getTracer(SCOPE);
  return new OtelTelemetry(meter, tracer, clock, lockNames);
}

function provider<T>(value: unknown, method: string): T {
  if (value === null || typeof value !== 'object' || typeof (value as Record<string, unknown>)[method] !== 'function') {
    throw new ValidationError(`telemetry: a provider needs a ${method}() method`);
  }
  return value as T;
}

/**
 * The Telemetry a client reports through when a provider is configured: metrics on a Meter and
 * spans on a Tracer, both from `@opentelemetry/api` (the SDK is the application's choice).
 *
 * Spans: `holdfast.acquire` covers one acquisition, its wait included; `holdfast.lease` starts
 * at the grant and ends at release, detach or loss. Both are children of the context active when
 * acquire was called, so under a request's span they show, one after the other, the time spent
 * waiting for the lock and the time spent holding it. A waiting rate-limiter take is a
 * `holdfast.rate.take` span.
 */
import {
  type Attributes,
  type Context,
  context,
  type Meter,
  type Span,
  SpanStatusCode,
  type Tracer,
} from '@opentelemetry/api';
import type { EventKind } from '../backend.js';
import { HoldfastError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { type Gauges, gaugesFor } from './gauges.js';
import { ATTR, createInstruments, type Instruments } from './instruments.js';
import {
  type Acquisition,
  type GrantPath,
  type LeaseEnd,
  type LeaseObservation,
  type LossReason,
  NO_LEASE_OBSERVATION,
  type RenewalOutcome,
  type Telemetry,
} from './telemetry.js';

type Failure = 'timeout' | 'aborted' | 'closed' | 'error';

/** A failed wait, from its error: aborts reject with the signal's reason, whatever it is. */
function failureOf(error: unknown): Failure {
  if (!(error instanceof HoldfastError)) return 'aborted';
  if (error.code === 'LOCK_TIMEOUT') return 'timeout';
  return error.code === 'CLOSED' ? 'closed' : 'error';
}

/** What every observation of one client shares. */
interface Reporter {
  readonly instruments: Instruments;
  readonly gauges: Gauges;
  readonly tracer: Tracer;
  readonly clock: Clock;
  readonly lockNames: boolean;
  /** Attribute sets by kind and values, reused when names are off (a few dozen in all). */
  readonly sets: Map<string, Attributes>;
}

/** `base` plus `extra`: one shared object per combination unless names make them unbounded. */
function attributes(reporter: Reporter, kind: string, base: Attributes, extra: Record<string, string>): Attributes {
  if (reporter.lockNames) return { ...base, ...extra };
  let key = kind;
  for (const name in extra) key += `|${name}=${extra[name]}`;
  let set = reporter.sets.get(key);
  if (set === undefined) {
    set = Object.freeze({ ...base, ...extra });
    reporter.sets.set(key, set);
  }
  return set;
}

export class OtelTelemetry implements Telemetry {
  readonly #reporter: Reporter;

  constructor(meter: Meter, tracer: Tracer, clock: Clock, lockNames: boolean) {
    const instruments = createInstruments(meter);
    this.#reporter = { instruments, gauges: gaugesFor(meter), tracer, clock, lockNames, sets: new Map() };
  }

  acquiring(kind: EventKind, name: string, waits: boolean): Acquisition {
    return new OtelAcquisition(this.#reporter, kind, name, waits);
  }

  rateTried(name: string, allowed: boolean, local: boolean): void {
    const set: Attributes = {
      [ATTR.kind]: 'rate-limiter',
      [ATTR.rateMode]: 'try',
      [ATTR.rateOutcome]: allowed ? 'allowed' : 'refused',
      [ATTR.rateSource]: local ? 'local' : 'backend',
    };
    if (this.#reporter.lockNames) set[ATTR.name] = name;
    this.#reporter.instruments.rateDecisions.add(1, set);
  }
}

class OtelAcquisition implements Acquisition {
  readonly #reporter: Reporter;
  readonly #kind: EventKind;
  readonly #waits: boolean;
  /** kind (and name): the attributes every series of this acquisition starts from. */
  readonly #base: Attributes;
  readonly #gaugeKey: string;
  readonly #parent: Context;
  readonly #span: Span;
  readonly #startedAt: number;
  #settled = false;

  constructor(reporter: Reporter, kind: EventKind, name: string, waits: boolean) {
    this.#reporter = reporter;
    this.#kind = kind;
    this.#waits = waits;
    this.#base = reporter.lockNames
      ? { [ATTR.kind]: kind, [ATTR.name]: name }
      : attributes(reporter, kind, {}, { [ATTR.kind]: kind });
    this.#gaugeKey = reporter.lockNames ? `${kind}\u0000${name}` : kind;
    this.#parent = context.active();
    const spanName = kind === 'rate-limiter' ? 'holdfast.rate.take' : 'holdfast.acquire';
    const mode = waits ? 'wait' : 'try';
    this.#span = reporter.tracer.startSpan(
      spanName,
      { attributes: { ...this.#base, [ATTR.mode]: mode } },
      this.#parent,
    );
    this.#startedAt = reporter.clock.now();
    if (waits) reporter.gauges.waiting(this.#gaugeKey, this.#base, reporter.lockNames, 1);
  }

  around<T>(start: () => Promise<T>): Promise<T> {
    let waiting: Promise<T>;
    try {
      waiting = start();
    } catch (error) {
      this.failed(error);
      throw error;
    }
    return waiting.catch((error: unknown) => {
      this.failed(error);
      throw error;
    });
  }

  granted(path: GrantPath, fence: bigint): LeaseObservation {
    // Settled already cannot happen (a waiter settles once); kept total all the same.
    if (!this.#settle('acquired', { [ATTR.grant]: path, [ATTR.fence]: fence.toString() })) return NO_LEASE_OBSERVATION;
    if (path === 'handoff') this.#reporter.instruments.handoffs.add(1, this.#base);
    return new OtelLease(this.#reporter, this.#kind, this.#base, this.#gaugeKey, this.#parent, fence);
  }

  admitted(path: GrantPath): void {
    if (!this.#settle('acquired', { [ATTR.grant]: path })) return;
    this.#rateDecision('allowed');
  }

  refused(): void {
    this.#settle('busy', {});
  }

  failed(error: unknown): void {
    const failure = failureOf(error);
    if (!this.#settle(failure, {}, error)) return;
    if (failure === 'timeout') this.#reporter.instruments.timeouts.add(1, this.#base);
    if (this.#kind === 'rate-limiter') this.#rateDecision(failure);
  }

  #rateDecision(outcome: string): void {
    this.#reporter.instruments.rateDecisions.add(1, {
      ...this.#base,
      [ATTR.rateMode]: 'wait',
      [ATTR.rateOutcome]: outcome,
    });
  }

  /** Records the duration and ends the span, once; false when already settled. */
  #settle(outcome: string, spanAttributes: Attributes, error?: unknown): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    const reporter = this.#reporter;
    const seconds = (reporter.clock.now() - this.#startedAt) / 1000;
    const mode = this.#waits ? 'wait' : 'try';
    reporter.instruments.acquireDuration.record(
      seconds,
      attributes(reporter, this.#kind, this.#base, { [ATTR.mode]: mode, [ATTR.outcome]: outcome }),
    );
    if (this.#waits) reporter.gauges.waiting(this.#gaugeKey, this.#base, reporter.lockNames, -1);
    this.#span.setAttributes({ ...spanAttributes, [ATTR.outcome]: outcome });
    if (error !== undefined) {
      this.#span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : outcome });
    }
    this.#span.end();
    return true;
  }
}

/** A lease observed from its grant: hold time, renewals, loss, and its span. */
class OtelLease implements LeaseObservation {
  readonly #reporter: Reporter;
  readonly #kind: EventKind;
  readonly #base: Attributes;
  readonly #gaugeKey: string;
  readonly #span: Span;
  readonly #grantedAt: number;
  #ended = false;

  constructor(reporter: Reporter, kind: EventKind, base: Attributes, gaugeKey: string, parent: Context, fence: bigint) {
    this.#reporter = reporter;
    this.#kind = kind;
    this.#base = base;
    this.#gaugeKey = gaugeKey;
    this.#grantedAt = reporter.clock.now();
    const attributes = { ...base, [ATTR.fence]: fence.toString() };
    this.#span = reporter.tracer.startSpan('holdfast.lease', { attributes }, parent);
    reporter.gauges.held(gaugeKey, base, reporter.lockNames, 1);
  }

  renewal(outcome: RenewalOutcome): void {
    if (this.#ended) return;
    const reporter = this.#reporter;
    reporter.instruments.renewals.add(1, attributes(reporter, this.#kind, this.#base, { [ATTR.renewal]: outcome }));
    if (outcome !== 'renewed') this.#span.addEvent(`renewal ${outcome}`);
  }

  ended(how: LeaseEnd, reason?: LossReason): void {
    if (this.#ended) return;
    this.#ended = true;
    const reporter = this.#reporter;
    const seconds = (reporter.clock.now() - this.#grantedAt) / 1000;
    reporter.instruments.leaseDuration.record(
      seconds,
      attributes(reporter, this.#kind, this.#base, { [ATTR.end]: how }),
    );
    reporter.gauges.held(this.#gaugeKey, this.#base, reporter.lockNames, -1);
    const endAttributes: Attributes = { [ATTR.end]: how };
    if (how === 'lost') {
      const lost = { ...this.#base, [ATTR.lostReason]: reason ?? 'refused' };
      reporter.instruments.leasesLost.add(1, lost);
      endAttributes[ATTR.lostReason] = reason ?? 'refused';
      this.#span.setStatus({ code: SpanStatusCode.ERROR, message: `lease lost (${reason ?? 'refused'})` });
    }
    this.#span.setAttributes(endAttributes);
    this.#span.end();
  }
}

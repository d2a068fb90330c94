/**
 * Every metric holdfast reports, with its attributes: the names the README lists. Durations are
 * in seconds, as OpenTelemetry's semantic conventions ask, with bucket boundaries advised for
 * lock waits (sub-millisecond hand-offs to minutes-long queues) and holds (up to an hour).
 */
import type { Counter, Histogram, Meter } from '@opentelemetry/api';

/** Attribute keys. Values are from small fixed sets, except the name (only when opted in). */
export const ATTR = {
  kind: 'holdfast.lock.kind',
  name: 'holdfast.lock.name',
  mode: 'holdfast.acquire.mode',
  outcome: 'holdfast.acquire.outcome',
  grant: 'holdfast.acquire.grant',
  end: 'holdfast.lease.end',
  lostReason: 'holdfast.lease.lost_reason',
  renewal: 'holdfast.renewal.outcome',
  rateOutcome: 'holdfast.rate.outcome',
  rateMode: 'holdfast.rate.mode',
  rateSource: 'holdfast.rate.source',
  fence: 'holdfast.lease.fence',
} as const;

export const METRIC = {
  acquireDuration: 'holdfast.acquire.duration',
  leaseDuration: 'holdfast.lease.duration',
  handoffs: 'holdfast.handoffs',
  timeouts: 'holdfast.timeouts',
  renewals: 'holdfast.renewals',
  leasesLost: 'holdfast.leases.lost',
  rateDecisions: 'holdfast.rate.decisions',
  queueDepth: 'holdfast.queue.depth',
  leasesHeld: 'holdfast.leases.held',
} as const;

const WAIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const HOLD_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

export interface Instruments {
  readonly acquireDuration: Histogram;
  readonly leaseDuration: Histogram;
  readonly handoffs: Counter;
  readonly timeouts: Counter;
  readonly renewals: Counter;
  readonly leasesLost: Counter;
  readonly rateDecisions: Counter;
}

export function createInstruments(meter: Meter): Instruments {
  return {
    acquireDuration: meter.createHistogram(METRIC.acquireDuration, {
      description: 'From an acquire (or a waiting rate-limiter take) until granted, refused or given up',
      unit: 's',
      advice: { explicitBucketBoundaries: WAIT_BUCKETS },
    }),
    leaseDuration: meter.createHistogram(METRIC.leaseDuration, {
      description: 'How long a lease was held, from its grant until released, detached or lost',
      unit: 's',
      advice: { explicitBucketBoundaries: HOLD_BUCKETS },
    }),
    handoffs: meter.createCounter(METRIC.handoffs, {
      description: 'Grants pushed to a queued waiter with its wake-up (held in one message)',
      unit: '{grant}',
    }),
    timeouts: meter.createCounter(METRIC.timeouts, {
      description: 'Acquires and rate-limiter takes that ran out of their wait',
      unit: '{timeout}',
    }),
    renewals: meter.createCounter(METRIC.renewals, {
      description: 'Lease renewals (automatic and extend()), by outcome',
      unit: '{renewal}',
    }),
    leasesLost: meter.createCounter(METRIC.leasesLost, {
      description: 'Leases lost while held (their signal aborted), by reason',
      unit: '{lease}',
    }),
    rateDecisions: meter.createCounter(METRIC.rateDecisions, {
      description: 'Rate-limiter decisions: tries (by the backend or a remembered refusal) and waiting takes',
      unit: '{decision}',
    }),
  };
}

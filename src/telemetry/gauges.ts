/**
 * Queue depth and leases held, as observable up-down counters: what this process knows at no
 * cost. Each blocking acquire or waiting take belongs to exactly one client, so summing the
 * series over every process gives the whole queue; asking the backend (`inspect`) would cost a
 * round trip per name per collection and could only be reported per name, an unbounded set.
 *
 * One set of counts per meter, shared by every client that reports to it: an observable
 * callback per client would have two clients' observations of the same attributes overwrite
 * each other instead of adding up.
 */
import type { Attributes, Meter, ObservableUpDownCounter } from '@opentelemetry/api';
import { METRIC } from './instruments.js';

interface Count {
  readonly attributes: Attributes;
  value: number;
  /**
   * Reported at 0 once more, then dropped (per-name series, which would otherwise only grow): a
   * series that just stopped being observed could keep its last value in a cumulative export.
   */
  readonly transient: boolean;
}

export class Gauges {
  readonly #waiting = new Map<string, Count>();
  readonly #held = new Map<string, Count>();

  constructor(meter: Meter) {
    const depth = meter.createObservableUpDownCounter(METRIC.queueDepth, {
      description: "This process's waiters: blocking acquires and waiting rate-limiter takes not yet settled",
      unit: '{waiter}',
    });
    const held = meter.createObservableUpDownCounter(METRIC.leasesHeld, {
      description: 'Leases this process holds (granted, not yet released, detached or lost)',
      unit: '{lease}',
    });
    report(depth, this.#waiting);
    report(held, this.#held);
  }

  waiting(key: string, attributes: Attributes, transient: boolean, delta: number): void {
    add(this.#waiting, key, attributes, transient, delta);
  }

  held(key: string, attributes: Attributes, transient: boolean, delta: number): void {
    add(this.#held, key, attributes, transient, delta);
  }
}

function report(instrument: ObservableUpDownCounter, counts: Map<string, Count>): void {
  instrument.addCallback((result) => {
    for (const [key, count] of counts) {
      result.observe(count.value, count.attributes);
      if (count.value === 0 && count.transient) counts.delete(key);
    }
  });
}

function add(counts: Map<string, Count>, key: string, attributes: Attributes, transient: boolean, delta: number): void {
  const count = counts.get(key);
  if (count === undefined) {
    counts.set(key, { attributes, value: delta, transient });
    return;
  }
  count.value += delta;
}

/** A cache keyed by the meter (not global state): clients of one meter share its counts. */
const byMeter = new WeakMap<Meter, Gauges>();

export function gaugesFor(meter: Meter): Gauges {
  let gauges = byMeter.get(meter);
  if (gauges === undefined) {
    gauges = new Gauges(meter);
    byMeter.set(meter, gauges);
  }
  return gauges;
}

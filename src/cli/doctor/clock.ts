/**
 * Round-trip time and clock skew from samples of the backend's wall clock: each sample is
 * bracketed by two local readings, so the backend's reading fell somewhere inside the round
 * trip, and the skew is known to ± half of it. The tightest sample bounds it best.
 */
import { duration } from '../output.js';
import { type Finding, finding } from './finding.js';

export interface Sample {
  /** Local wall clock (ms since the epoch, fractional) just before sending. */
  readonly sent: number;
  /** Local wall clock just after the reply. */
  readonly received: number;
  /** The backend's wall clock in that reply, ms since the epoch. */
  readonly remote: number;
}

/** Local wall clock with sub-ms resolution, monotonic within this process. */
export const localNow = (): number => performance.timeOrigin + performance.now();

/** Median round trip above this: warn (each acquire and release is a round trip). */
const SLOW_RTT_MS = 50;
/** Skew beyond this, even at the bound's best: warn. */
const SKEW_WARN_MS = 500;

export function latencyCheck(rtts: readonly number[]): Finding {
  if (rtts.length === 0) return finding('latency', 'warn', 'not measured: the probe command was refused');
  const sorted = [...rtts].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  const detail = `round trip ${fmt(sorted[0] ?? Number.NaN)} min, ${fmt(median)} median over ${sorted.length}`;
  if (median > SLOW_RTT_MS) {
    return finding(
      'latency',
      'warn',
      `${detail}: every acquire, release and renewal costs this`,
      'keep TTLs far above it (10 s default); run holdfast near its backend',
    );
  }
  return finding('latency', 'ok', detail);
}

export function skewCheck(samples: readonly Sample[], source: string): Finding {
  const best = [...samples].sort((a, b) => a.received - a.sent - (b.received - b.sent))[0];
  if (best === undefined) return finding('clock', 'warn', `no reading of the backend's clock (${source})`);
  const half = (best.received - best.sent) / 2;
  const skew = best.remote - (best.sent + half);
  const ahead = skew >= 0 ? 'ahead of' : 'behind';
  const detail = `backend clock ${fmt(Math.abs(skew))} ${ahead} this host (± ${fmt(half)}, ${source})`;
  if (Math.abs(skew) - half > SKEW_WARN_MS) {
    return finding(
      'clock',
      'warn',
      `${detail}: leases are unaffected (they expire on the backend's clock), but schedule() fires on each host's clock`,
      'run NTP (chrony, systemd-timesyncd) on every host and on the backend',
    );
  }
  return finding('clock', 'ok', detail);
}

function fmt(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : duration(ms);
}

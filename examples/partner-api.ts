/**
 * Seed 002 — three servers share a partner API that allows 5 requests per 800 ms. Each server
 * calls `take()` before every request: instead of hearing "sorry" and retrying, it waits for the
 * next free slot. The check: in no 800 ms interval did the partner see more than 5 requests,
 * and no call failed.
 */
import type { Holdfast } from '../src/index.js';

export interface PartnerApiSummary {
  readonly calls: number;
  readonly failed: number;
  readonly maxInAnyWindow: number;
  readonly limit: number;
  readonly ok: boolean;
}

const LIMIT = 5;
const WINDOW = 800;

export async function partnerApi(servers: readonly Holdfast[], callsPerServer = 4): Promise<PartnerApiSummary> {
  const admittedAt: number[] = [];
  let failed = 0;
  await Promise.all(
    servers.map(async (hf) => {
      const partner = hf.rateLimiter('partner-api', { limit: LIMIT, window: WINDOW });
      for (let i = 0; i < callsPerServer; i++) {
        try {
          const slot = await partner.take(1, { wait: 10_000 });
          admittedAt.push(slot.at); // the backend's clock: the moment the slot was granted
        } catch {
          failed++;
        }
      }
    }),
  );
  const maxInAnyWindow = busiestWindow(admittedAt, WINDOW);
  const calls = servers.length * callsPerServer;
  return { calls, failed, maxInAnyWindow, limit: LIMIT, ok: failed === 0 && maxInAnyWindow <= LIMIT };
}

/** The most admissions in any half-open interval [t, t + window) starting at an admission. */
export function busiestWindow(times: readonly number[], window: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && (sorted[end] as number) < (sorted[start] as number) + window) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

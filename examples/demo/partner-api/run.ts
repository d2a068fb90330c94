/**
 * Scenario 2, the rate-limited partner API (seed 002): three server processes share "5 requests
 * per 800 ms". The check runs on the backend's clock at each admission: no 800 ms window saw
 * more than 5 calls, and no call failed — those that found the window full waited for a slot.
 */
import { checkRate } from '../checks.js';
import { bar, ms } from '../display.js';
import { crashed, type ScenarioContext, type ScenarioResult } from '../scenario.js';
import { within } from '../workers.js';
import type { ServerConfig } from './server.js';

export interface PartnerApiOptions {
  readonly servers?: number;
  readonly callsPerServer?: number;
  /** What the partner allows (the check). */
  readonly limit?: number;
  readonly window?: number;
  /** What the servers configure their limiter with; a wrong value must fail the check. */
  readonly configuredLimit?: number;
}

export async function partnerApi(ctx: ScenarioContext, options: PartnerApiOptions = {}): Promise<ScenarioResult> {
  const { display } = ctx;
  const servers = options.servers ?? 3;
  const perServer = options.callsPerServer ?? (ctx.quick ? 5 : 8);
  const limit = options.limit ?? 5;
  const window = options.window ?? 800;
  const config: ServerConfig = { calls: perServer, loops: 2, limit: options.configuredLimit ?? limit, window };
  const admitted: number[] = [];
  const waited: number[] = [];
  const done = new Map<string, number>();
  let failed = 0;
  const total = servers * perServer;
  const crew = ctx.hosts.crew(
    Array.from({ length: servers }, (_, i) => ({
      name: `server-${i + 1}`,
      role: 'server',
      config,
    })),
    (worker, m) => {
      if (m.type === 'ready') return;
      if (m.type === 'call') {
        admitted.push(Number(m.at));
        waited.push(Number(m.waited));
        done.set(worker.name, (done.get(worker.name) ?? 0) + 1);
        if (admitted.length % limit === 0 || admitted.length === total) {
          const { busiest } = checkRate(admitted, 0, limit, window);
          display.note(
            `${admitted.length}/${total} calls admitted; busiest ${window} ms window so far: ${busiest}/${limit}`,
          );
        }
      }
      if (m.type === 'failed') {
        failed++;
        display.note(`${worker.name}: a call failed: ${m.message}`);
      }
      const last = admitted.length === 0 ? 0 : Math.max(...admitted);
      const recent = admitted.filter((t) => t > last - window).length;
      display.status([
        ...crew.workers.map(
          (w) => `  ${w.name}  ${bar(done.get(w.name) ?? 0, perServer)}  ${done.get(w.name) ?? 0}/${perServer} calls`,
        ),
        `  partner  ${recent}/${limit} calls in the last ${window} ms`,
      ]);
    },
  );
  try {
    await within(crew, 30_000, 'the servers starting', crew.waitFor('ready'));
    const pids = crew.workers.map((w) => w.pid).join(', ');
    display.note(`${servers} server processes (pids ${pids}), 2 request loops each; every call waits for take()`);
    crew.broadcast({ type: 'go' });
    await within(crew, 30_000, 'every call', crew.waitFor('done'));
  } catch (error) {
    return crashed(error);
  } finally {
    await crew.stop();
    display.clear();
  }
  const verdict = checkRate(admitted, failed, limit, window);
  const problems = [...verdict.problems];
  const queued = waited.filter((w) => w > 20);
  if (queued.length === 0) problems.push('no call had to wait: the limit was never reached');
  return {
    ok: problems.length === 0,
    summary:
      `${admitted.length}/${total} calls from ${servers} servers, busiest ${window} ms window ${verdict.busiest}/${limit}, ` +
      `${failed} failed, ${queued.length} waited for a slot instead`,
    details: [
      `longest wait ${ms(Math.max(0, ...waited))}; admissions timed on the backend's clock`,
      ...problems.map((problem) => `✗ ${problem}`),
    ],
  };
}

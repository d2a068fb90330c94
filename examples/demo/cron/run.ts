/**
 * Scenario 4, cron across instances (seed 004): three instance processes run the same
 * every-second schedule with `schedule()`. For each fire time every instance reports whether it
 * ran the job or skipped it; exactly one may run each tick.
 */
import { checkTicks, type TickReport } from '../checks.js';
import { crashed, type ScenarioContext, type ScenarioResult } from '../scenario.js';
import { within } from '../workers.js';

export async function cronAcrossInstances(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { display } = ctx;
  const instances = 3;
  const wanted = ctx.quick ? 2 : 4;
  const reports: TickReport[] = [];
  const reasons = new Map<string, string>();
  const fences = new Map<string, string>();
  const errors: string[] = [];
  let enough!: () => void;
  const done = new Promise<void>((resolve) => {
    enough = resolve;
  });
  const crew = ctx.hosts.crew(
    Array.from({ length: instances }, (_, i) => ({
      name: `instance-${i + 1}`,
      role: 'instance',
      config: {},
    })),
    (worker, m) => {
      if (m.type === 'job-error') errors.push(`${worker.name} at ${m.fireTime}: ${m.message}`);
      if (m.type !== 'tick') return;
      const fireTime = String(m.fireTime);
      if (m.fence !== undefined) fences.set(fireTime, String(m.fence));
      reports.push({ instance: worker.name, fireTime, outcome: m.outcome === 'ran' ? 'ran' : 'skipped' });
      if (m.reason !== undefined) reasons.set(`${worker.name}@${fireTime}`, String(m.reason));
      const tick = reports.filter((r) => r.fireTime === fireTime);
      if (tick.length === instances) {
        const ran = tick.filter((r) => r.outcome === 'ran').map((r) => r.instance);
        const skipped = tick
          .filter((r) => r.outcome === 'skipped')
          .map((r) => `${r.instance} (${reasons.get(`${r.instance}@${fireTime}`)})`);
        const fence = fences.get(fireTime);
        display.note(
          `${fireTime.slice(11, 19)}  ran on ${ran.join(', ') || 'nobody'}${fence ? ` (fence ${fence})` : ''}; ` +
            `skipped: ${skipped.join(', ') || 'none'}`,
        );
        if (checkTicks(reports, instances, wanted).complete.length >= wanted) enough();
      }
      display.status([`  ticks  ${checkTicks(reports, instances, wanted).complete.length}/${wanted} seen by all`]);
    },
  );
  try {
    await within(crew, 30_000, 'the instances starting', crew.waitFor('ready'));
    const pids = crew.workers.map((w) => w.pid).join(', ');
    display.note(
      `${instances} instance processes (pids ${pids}) schedule 'nightly-sync' at '* * * * * *' (every second)`,
    );
    crew.broadcast({ type: 'start' });
    await within(crew, (wanted + 4) * 1000, `${wanted} ticks`, done);
  } catch (error) {
    return crashed(error);
  } finally {
    await crew.stop();
    display.clear();
  }
  const verdict = checkTicks(reports, instances, wanted);
  const problems = [...verdict.problems, ...errors];
  const counted = reports.filter((r) => verdict.complete.includes(r.fireTime));
  const runs = counted.filter((r) => r.outcome === 'ran').length;
  const skips = counted.length - runs;
  return {
    ok: problems.length === 0,
    summary:
      `${verdict.complete.length} ticks × ${instances} instances: ${runs} runs, exactly one per tick; ` +
      `${skips} skips, each reported by the instance that skipped`,
    details: problems.map((problem) => `✗ ${problem}`),
  };
}

/**
 * Scenario 1, the contact center (seeds 000/001): three agent processes and a task manager
 * process. The demo plays the phone system: it brings tasks in bursts to the manager and passes
 * each assignment to the agent's process (and a declined offer back). It also watches `agent:*`
 * on its own client, to check capacity from the backend's events as well as from the agents.
 */
import type { LockEvent } from '../../../src/index.js';
import { type AgentEntry, type AgentEvent, checkContactCenter, type ManagerEntry } from '../checks.js';
import { bar, plural } from '../display.js';
import type { Message } from '../protocol.js';
import { crashed, observer, type ScenarioContext, type ScenarioResult } from '../scenario.js';
import type { Crew, Worker } from '../workers.js';
import { within } from '../workers.js';
import type { AgentConfig, TaskOffer } from './types.js';

export interface Plan {
  readonly agents: readonly AgentConfig[];
  readonly bursts: readonly { readonly at: number; readonly tasks: readonly TaskOffer[] }[];
}

export function plan(quick: boolean): Plan {
  const agents: AgentConfig[] = [
    { id: 'anna', capacity: 3 },
    { id: 'bart', capacity: 2, logoutAfter: quick ? 2 : 3 },
    { id: 'cleo', capacity: 1 },
  ];
  let seed = 7;
  const random = (): number => {
    seed = (seed * 48_271) % 2_147_483_647;
    return seed / 2_147_483_647;
  };
  const sizes = quick ? [8, 4] : [8, 8, 8];
  let id = 0;
  const bursts = sizes.map((size, i) => ({
    at: i * (quick ? 700 : 900),
    tasks: Array.from({ length: size }, () => ({
      id: ++id,
      priority: 1 + Math.floor(random() * 3),
      duration: 200 + Math.floor(random() * 300),
    })),
  }));
  return { agents, bursts };
}

const priorities = (tasks: readonly { priority: number }[]): string =>
  [3, 2, 1]
    .map((p) => [p, tasks.filter((t) => t.priority === p).length] as const)
    .filter(([, n]) => n > 0)
    .map(([p, n]) => `p${p} ×${n}`)
    .join(', ');

export async function contactCenter(ctx: ScenarioContext, p: Plan = plan(ctx.quick)): Promise<ScenarioResult> {
  const { display } = ctx;
  const tasks = p.bursts.flatMap((b) => b.tasks);
  const away = p.agents.find((a) => a.logoutAfter !== undefined)?.id ?? '';
  const manager: ManagerEntry[] = [];
  const reports: AgentEntry[] = [];
  const events: AgentEvent[] = [];
  const handledBy = new Map<string, number>();
  const held = new Map<string, number>();
  const state = new Map<string, string>();
  const view = { queue: [] as number[], wakeups: { event: 0, arrival: 0, declined: 0 }, arrived: 0 };
  let finished = 0;
  let settle: () => void = () => {};
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  // Done when every task is finished and the backend's events show every slot returned.
  const check = (): void => {
    if (finished === tasks.length && [...held.values()].every((n) => n === 0)) settle();
  };

  const draw = (): void => {
    display.status([
      `  queue    ${priorities(view.queue.map((priority) => ({ priority }))) || 'empty'}` +
        ` · arrived ${view.arrived}/${tasks.length} · handled ${finished}/${tasks.length}`,
      ...p.agents.map((a) => {
        const n = held.get(a.id) ?? 0;
        const what = (state.get(a.id) ?? 'idle').padEnd(5);
        return `  ${a.id.padEnd(8)} ${bar(n, a.capacity).padEnd(4)} ${n}/${a.capacity} ${what} handled ${handledBy.get(a.id) ?? 0}`;
      }),
      `  manager  woke on ${plural(view.wakeups.event, 'lock event')}, ${plural(view.wakeups.arrival, 'arrival')}, ${plural(view.wakeups.declined, 'decline')}`,
    ]);
  };

  const fromManager = (m: Message): void => {
    if (m.type === 'queued' || m.type === 'requeued') manager.push({ kind: m.type, task: Number(m.task) });
    if (m.type === 'assign') {
      const task = m.task as TaskOffer;
      manager.push({ kind: 'assign', task: task.id, agent: String(m.agent) });
      crew.workers.find((w) => w.name === `agent ${String(m.agent)}`)?.send({ type: 'task', task });
    }
    if (m.type === 'manager') Object.assign(view, { queue: m.queue, wakeups: m.wakeups });
  };
  const fromAgent = (agent: string, m: Message): void => {
    if (m.type === 'started' || m.type === 'finished') reports.push({ kind: m.type, agent, task: Number(m.task) });
    if (m.type === 'away') {
      reports.push({ kind: 'away', agent });
      const left = Number(m.left);
      const rest = left === 0 ? 'nothing left in hand' : `finishing ${plural(left, 'task')} in hand`;
      display.note(`${agent} logs out: takes agent:${agent}:away (fence ${m.fence}), ${rest}`);
    }
    if (m.type === 'declined') {
      display.note(`task ${m.task} offered to ${agent}: declined (${m.reason}), back in the queue`);
      crew.workers.find((w) => w.name === 'manager')?.send({ type: 'declined', task: m.task, agent });
    }
    if (m.type === 'finished') {
      finished++;
      handledBy.set(agent, (handledBy.get(agent) ?? 0) + 1);
      if (finished % Math.ceil(tasks.length / 4) === 0 || finished === tasks.length) {
        const by = p.agents.map((a) => `${a.id} ${handledBy.get(a.id) ?? 0}`).join(', ');
        display.note(`handled ${finished}/${tasks.length} (${by})`);
      }
      check();
    }
  };
  // The independent witness: every lock change on agent:*, in the backend's order.
  const hf = await observer(ctx);
  const watching = new AbortController();
  const stream = hf.watch('agent:*', { signal: watching.signal });
  const witnessed = (async () => {
    for await (const e of stream) {
      events.push({ type: e.type, name: e.name, permits: e.permits });
      follow(e, held, state);
      check();
      draw();
    }
  })().catch(() => {}); // a failed stream shows as its `ready` rejecting, below
  const crew: Crew = ctx.hosts.crew(
    [
      ...p.agents.map((a) => ({ name: `agent ${a.id}`, role: 'agent' as const, config: a })),
      { name: 'manager', role: 'manager' as const, config: { agents: p.agents } },
    ],
    (worker: Worker, m: Message) => {
      if (m.type === 'ready') return;
      if (worker.name === 'manager') fromManager(m);
      else fromAgent(worker.name.replace(/^agent /, ''), m);
      draw();
    },
  );

  const timers: NodeJS.Timeout[] = [];
  try {
    await stream.ready;
    await within(crew, 30_000, 'the processes starting', crew.waitFor('ready'));
    const pids = crew.workers.map((w) => `${w.name.replace('agent ', '')} ${w.pid}`).join(', ');
    display.note(`agents and task manager up, each a process with its own client (pids: ${pids})`);
    const managerProcess = crew.workers.find((w) => w.name === 'manager') as Worker;
    for (const burst of p.bursts) {
      const arrive = (): void => {
        view.arrived += burst.tasks.length;
        display.note(`${burst.tasks.length} tasks arrive (${priorities(burst.tasks)})`);
        for (const task of burst.tasks) managerProcess.send({ type: 'task', task });
      };
      timers.push(setTimeout(arrive, burst.at));
    }
    await within(crew, 20_000, 'handling every task', settled);
  } catch (error) {
    return crashed(error);
  } finally {
    for (const timer of timers) clearTimeout(timer);
    watching.abort();
    await witnessed;
    await crew.stop();
    await hf.close();
    display.clear();
  }

  const verdict = checkContactCenter({ agents: p.agents, tasks, away, manager, reports, events });
  const peaks = p.agents.map((a) => `${a.id} ${verdict.peakEvents[a.id] ?? 0}/${a.capacity}`).join(', ');
  const slotEvents = events.filter((e) => e.name.endsWith(':slots')).length;
  const w = view.wakeups;
  return {
    ok: verdict.problems.length === 0,
    summary:
      `${verdict.handled}/${tasks.length} tasks handled by ${p.agents.length} agents, never over capacity ` +
      `(peak ${peaks}), highest priority first, ${away} got no task while away`,
    details: [
      `capacity checked twice: the agents' own reports (peak ${p.agents.map((a) => verdict.peakReported[a.id] ?? 0).join('/')})` +
        ` and ${slotEvents} slot events seen by an independent watcher`,
      `task manager woke on ${plural(w.event, 'lock event')}, ${plural(w.arrival, 'arrival')} and ${plural(w.declined, 'decline')}: no polling timer`,
      ...verdict.problems.map((problem) => `✗ ${problem}`),
    ],
  };
}

/** Follows an agent's state from its lock events, for the live display and the end condition. */
function follow(e: LockEvent, held: Map<string, number>, state: Map<string, string>): void {
  const [, id, what] = /^agent:(.+):(slots|busy|away)$/.exec(e.name) ?? [];
  if (id === undefined) return;
  const granted = e.type === 'acquired' || e.type === 'handoff';
  const ended = e.type === 'released' || e.type === 'expired' || e.type === 'lost';
  if (what === 'slots') held.set(id, (held.get(id) ?? 0) + (granted ? e.permits : ended ? -e.permits : 0));
  if (what === 'busy' && state.get(id) !== 'away' && (granted || ended)) state.set(id, granted ? 'busy' : 'idle');
  if (what === 'away' && granted) state.set(id, 'away');
}

/**
 * The contact center's task manager (seeds 000/001), as its own process. It keeps a priority
 * queue of tasks and a picture of every agent built only from lock-change events on `agent:*`
 * (`hf.watch`): slots held, busy, away. It assigns when something changes — a task arrives, an
 * event comes in, an agent declines — and never on a timer: no polling.
 */
import type { LockEvent } from '../../../src/index.js';
import { connectTarget, type RoleHandle, type RoleIO } from '../role.js';
import type { ManagerConfig, TaskOffer } from './types.js';

interface AgentView {
  readonly id: string;
  readonly capacity: number;
  /** Tasks whose slot the agent holds (from `acquired` / `released` events of its semaphore). */
  readonly held: Set<number>;
  /** Tasks sent to the agent whose slot is not granted yet. */
  readonly offered: Set<number>;
  busy: boolean;
  away: boolean;
}

interface Queued extends TaskOffer {
  /** Arrival order, so equal priorities are served first come, first served. */
  readonly seq: number;
}

export async function manager({ target, config, send }: RoleIO<ManagerConfig>): Promise<RoleHandle> {
  const hf = await connectTarget(target);
  const agents = new Map<string, AgentView>(
    config.agents.map((a) => [
      a.id,
      { id: a.id, capacity: a.capacity, held: new Set(), offered: new Set(), busy: false, away: false },
    ]),
  );
  const queue: Queued[] = [];
  /** Tasks sent to an agent, kept to re-queue one in its place if the agent declines it. */
  const assigned = new Map<number, Queued>();
  const wakeups = { event: 0, arrival: 0, declined: 0 };
  let arrivals = 0;

  function enqueue(task: Queued): void {
    const at = queue.findIndex((q) => q.priority < task.priority || (q.priority === task.priority && q.seq > task.seq));
    queue.splice(at < 0 ? queue.length : at, 0, task);
  }

  /** The agent to give the next task to: not away, a slot free; idle ones first, then the freest. */
  function pick(): AgentView | undefined {
    const free = (a: AgentView): number => a.capacity - a.held.size - a.offered.size;
    const idle = (a: AgentView): boolean => !a.busy && a.held.size + a.offered.size === 0;
    const candidates = [...agents.values()].filter((a) => !a.away && free(a) > 0);
    candidates.sort((a, b) => Number(idle(b)) - Number(idle(a)) || free(b) - free(a) || a.id.localeCompare(b.id));
    return candidates[0];
  }

  function dispatch(cause: keyof typeof wakeups): void {
    wakeups[cause]++;
    for (let agent = pick(); agent !== undefined && queue.length > 0; agent = pick()) {
      const task = queue.shift() as Queued;
      agent.offered.add(task.id);
      assigned.set(task.id, task);
      send({
        type: 'assign',
        task: { id: task.id, priority: task.priority, duration: task.duration },
        agent: agent.id,
      });
    }
    send({ type: 'manager', queue: queue.map((q) => q.priority), wakeups });
  }

  function apply(e: LockEvent): void {
    const [, id, what] = /^agent:(.+):(slots|busy|away)$/.exec(e.name) ?? [];
    const agent = id === undefined ? undefined : agents.get(id);
    if (agent === undefined) return;
    const granted = e.type === 'acquired' || e.type === 'handoff';
    const ended = e.type === 'released' || e.type === 'expired' || e.type === 'lost';
    if (what === 'busy' && (granted || ended)) agent.busy = granted;
    if (what === 'away' && (granted || ended)) agent.away = granted;
    const task = (e.owner as { task?: unknown } | null)?.task;
    if (what === 'slots' && typeof task === 'number') {
      agent.offered.delete(task);
      if (granted) agent.held.add(task);
      if (ended) agent.held.delete(task);
    }
  }

  const watching = new AbortController();
  const events = hf.watch('agent:*', { signal: watching.signal });
  await events.ready;
  const consumed = (async () => {
    for await (const e of events) {
      apply(e);
      dispatch('event');
    }
  })();

  return {
    onMessage: (message) => {
      if (message.type === 'task') {
        const task = { ...(message.task as TaskOffer), seq: arrivals++ };
        enqueue(task);
        send({ type: 'queued', task: task.id });
        dispatch('arrival');
      } else if (message.type === 'declined') {
        const task = assigned.get(Number(message.task));
        if (task === undefined) throw new Error(`declined task ${String(message.task)} was never assigned`);
        agents.get(String(message.agent))?.offered.delete(task.id);
        enqueue(task);
        send({ type: 'requeued', task: task.id });
        dispatch('declined');
      }
    },
    stop: async () => {
      watching.abort();
      await consumed;
      await hf.close();
    },
  };
}

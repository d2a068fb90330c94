/**
 * Seeds 000/001 — a contact center. Each agent is a semaphore (how many conversations at
 * once: a call and two e-mails, say) plus a mutex that means "logged in and available".
 * An agent logs out by taking their own availability lock; the task manager assigns each task
 * (highest priority first) to an agent who is available and has a free slot, never over an
 * agent's capacity, and skips agents who are away.
 */
import type { Holdfast, Lease } from '../src/index.js';

export interface ContactCenterSummary {
  readonly handled: number;
  readonly skippedAway: number;
  readonly maxConcurrentPerAgent: Record<string, number>;
  readonly capacity: Record<string, number>;
  readonly ok: boolean;
}

interface Agent {
  readonly id: string;
  readonly capacity: number;
}

const AGENTS: readonly Agent[] = [
  { id: 'anna', capacity: 3 },
  { id: 'bart', capacity: 2 },
  { id: 'cleo', capacity: 1 },
];

export async function contactCenter(hf: Holdfast, tasks = 24): Promise<ContactCenterSummary> {
  const inside = new Map<string, number>();
  const maxInside: Record<string, number> = {};
  // Cleo goes for a break: she takes her own availability lock, so no task is routed to her.
  const away: Lease = await hf.mutex('agent:cleo:away', { ttl: 5_000 }).acquire();
  const queue = Array.from({ length: tasks }, (_, i) => ({ id: i, priority: i % 3 })).sort(
    (a, b) => b.priority - a.priority,
  );
  let handled = 0;
  let skippedAway = 0;
  const work: Promise<void>[] = [];
  for (const task of queue) {
    const assigned = await assign(hf, task.id, inside, maxInside);
    if (assigned.skippedAway) skippedAway++;
    if (assigned.done) {
      handled++;
      work.push(assigned.done);
    }
  }
  await Promise.all(work);
  await away.release();
  const capacity = Object.fromEntries(AGENTS.map((a) => [a.id, a.capacity]));
  const ok = handled === tasks && AGENTS.every((a) => (maxInside[a.id] ?? 0) <= a.capacity) && !maxInside.cleo;
  return { handled, skippedAway, maxConcurrentPerAgent: maxInside, capacity, ok };
}

/**
 * Routes one task: agents who are away (their availability lock is held) are skipped; the first
 * agent with a free slot takes it; when everyone is busy the task queues (FIFO) for a slot.
 */
async function assign(
  hf: Holdfast,
  taskId: number,
  inside: Map<string, number>,
  maxInside: Record<string, number>,
): Promise<{ done: Promise<void>; skippedAway: boolean }> {
  const available: Agent[] = [];
  for (const agent of AGENTS) {
    if (await hf.inspect(`agent:${agent.id}:away`)) continue;
    available.push(agent);
  }
  const slots = (agent: Agent) => hf.semaphore(`agent:${agent.id}:slots`, { permits: agent.capacity });
  let agent: Agent | undefined;
  let slot: Lease | null = null;
  for (agent of available) {
    slot = await slots(agent).tryAcquire();
    if (slot) break;
  }
  if (!slot || !agent) {
    agent = available[taskId % available.length] as Agent;
    slot = await slots(agent).acquire({ wait: 10_000 });
  }
  const id = agent.id;
  const now = (inside.get(id) ?? 0) + 1;
  inside.set(id, now);
  maxInside[id] = Math.max(maxInside[id] ?? 0, now);
  const held = slot;
  const done = handle(taskId).finally(async () => {
    inside.set(id, (inside.get(id) ?? 1) - 1);
    await held.release();
  });
  return { done, skippedAway: available.length < AGENTS.length };
}

function handle(taskId: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5 + (taskId % 4) * 3));
}

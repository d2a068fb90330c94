/**
 * The demo's verdicts: pure functions over what the processes reported and what the backend's
 * lock-change events showed. Each returns its findings and a list of problems (empty: it held).
 */
import type { LockEventType } from '../../src/index.js';

// ——— contact center (seeds 000/001) ———

export interface AgentSpec {
  readonly id: string;
  /** How many tasks at once: the permits of the semaphore `agent:<id>:slots`. */
  readonly capacity: number;
}

export interface TaskSpec {
  readonly id: number;
  /** 1 (low) to 3 (high). */
  readonly priority: number;
}

/** The task manager's own account, in the order it sent it. */
export type ManagerEntry =
  | { readonly kind: 'queued' | 'requeued'; readonly task: number }
  | { readonly kind: 'assign'; readonly task: number; readonly agent: string };

/** One agent's account, in the order it sent it. */
export type AgentEntry =
  | { readonly kind: 'started' | 'finished'; readonly agent: string; readonly task: number }
  | { readonly kind: 'away'; readonly agent: string };

/** A lock-change event on `agent:*`, as an independent watcher saw it (backend order). */
export interface AgentEvent {
  readonly type: LockEventType;
  readonly name: string;
  readonly permits: number;
}

export interface ContactCenterHistory {
  readonly agents: readonly AgentSpec[];
  readonly tasks: readonly TaskSpec[];
  /** The agent who logs out mid-run. */
  readonly away: string;
  readonly manager: readonly ManagerEntry[];
  readonly reports: readonly AgentEntry[];
  readonly events: readonly AgentEvent[];
}

export interface ContactCenterVerdict {
  readonly handled: number;
  /** Most tasks each agent had at once, by its own reports. */
  readonly peakReported: Readonly<Record<string, number>>;
  /** Most slot permits each agent held at once, by the lock events. */
  readonly peakEvents: Readonly<Record<string, number>>;
  /** Tasks the away agent started after logging out (reports or events). */
  readonly startedWhileAway: number;
  /** Assignments made while a higher-priority task the manager knew of was waiting. */
  readonly inversions: number;
  readonly problems: readonly string[];
}

const GRANTS: readonly LockEventType[] = ['acquired', 'handoff'];
const ENDS: readonly LockEventType[] = ['released', 'expired', 'lost'];

export function checkContactCenter(h: ContactCenterHistory): ContactCenterVerdict {
  const problems: string[] = [];
  const capacity = new Map(h.agents.map((a) => [a.id, a.capacity]));
  const count = (entries: readonly { task: number }[]): Map<number, number> => {
    const times = new Map<number, number>();
    for (const { task } of entries) times.set(task, (times.get(task) ?? 0) + 1);
    return times;
  };
  const reported = (kind: 'started' | 'finished') =>
    h.reports.filter((r): r is AgentEntry & { task: number } => r.kind === kind);
  const started = count(reported('started'));
  const finished = count(reported('finished'));
  for (const task of h.tasks) {
    const s = started.get(task.id) ?? 0;
    const f = finished.get(task.id) ?? 0;
    if (s !== 1 || f !== 1) problems.push(`task ${task.id} started ${s}×, finished ${f}× (want 1× each)`);
  }

  // Capacity by the agents' own reports: tasks in hand never above the agent's permits.
  const peakReported: Record<string, number> = {};
  const inHand = new Map<string, number>();
  let startedWhileAway = 0;
  const away = new Set<string>();
  for (const r of h.reports) {
    if (r.kind === 'away') {
      away.add(r.agent);
      continue;
    }
    const now = (inHand.get(r.agent) ?? 0) + (r.kind === 'started' ? 1 : -1);
    inHand.set(r.agent, now);
    peakReported[r.agent] = Math.max(peakReported[r.agent] ?? 0, now);
    if (r.kind === 'started' && away.has(r.agent)) startedWhileAway++;
  }

  // Capacity by the backend's events: permits held on agent:<id>:slots, in the order granted.
  const peakEvents: Record<string, number> = {};
  const held = new Map<string, number>();
  const grants = new Map<string, number>();
  const awayEvents = new Set<string>();
  for (const e of h.events) {
    const [, agent, what] = /^agent:(.+):(slots|busy|away)$/.exec(e.name) ?? [];
    if (agent === undefined) continue;
    if (what === 'away') {
      if (GRANTS.includes(e.type)) awayEvents.add(agent);
      if (ENDS.includes(e.type)) problems.push(`${agent}'s away lock ended (${e.type}) before the run did`);
    } else if (what === 'slots') {
      const delta = GRANTS.includes(e.type) ? e.permits : ENDS.includes(e.type) ? -e.permits : 0;
      if (GRANTS.includes(e.type)) grants.set(agent, (grants.get(agent) ?? 0) + 1);
      if (e.type === 'expired' || e.type === 'lost') problems.push(`a slot of ${agent} ended by ${e.type}`);
      if (GRANTS.includes(e.type) && awayEvents.has(agent)) startedWhileAway++;
      const now = (held.get(agent) ?? 0) + delta;
      held.set(agent, now);
      peakEvents[agent] = Math.max(peakEvents[agent] ?? 0, now);
    }
  }
  for (const agent of h.agents) {
    const limit = capacity.get(agent.id) ?? 0;
    const byReports = peakReported[agent.id] ?? 0;
    const byEvents = peakEvents[agent.id] ?? 0;
    if (byReports > limit) problems.push(`${agent.id} had ${byReports} tasks at once (reports), capacity ${limit}`);
    if (byEvents > limit) problems.push(`${agent.id} held ${byEvents} slots at once (events), capacity ${limit}`);
    const starts = reported('started').filter((r) => r.agent === agent.id).length;
    const granted = grants.get(agent.id) ?? 0;
    if (starts !== granted)
      problems.push(`${agent.id} reported ${starts} tasks but the backend granted ${granted} slots`);
    if ((held.get(agent.id) ?? 0) !== 0) problems.push(`${agent.id} still holds ${held.get(agent.id)} slots`);
  }
  if (!away.has(h.away) || !awayEvents.has(h.away)) problems.push(`${h.away} never logged out`);
  if (startedWhileAway > 0) problems.push(`${startedWhileAway} tasks started by an agent who had logged out`);

  // Priority: no assignment while the manager knew of a waiting task of higher priority.
  const priority = new Map(h.tasks.map((t) => [t.id, t.priority]));
  const waiting = new Set<number>();
  let inversions = 0;
  for (const entry of h.manager) {
    if (entry.kind !== 'assign') {
      waiting.add(entry.task);
      continue;
    }
    waiting.delete(entry.task);
    const mine = priority.get(entry.task) ?? 0;
    const higher = [...waiting].filter((t) => (priority.get(t) ?? 0) > mine);
    if (higher.length > 0) {
      inversions++;
      problems.push(`task ${entry.task} (p${mine}) assigned while task ${higher[0]} waited with a higher priority`);
    }
  }
  return { handled: finished.size, peakReported, peakEvents, startedWhileAway, inversions, problems };
}

// ——— partner API (seed 002) ———

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

export interface RateVerdict {
  readonly busiest: number;
  readonly problems: readonly string[];
}

/** `admittedAt`: the backend's clock at each admission; `failed`: calls that gave up. */
export function checkRate(admittedAt: readonly number[], failed: number, limit: number, window: number): RateVerdict {
  const busiest = busiestWindow(admittedAt, window);
  const problems: string[] = [];
  if (busiest > limit) problems.push(`${busiest} calls in one ${window} ms window, the partner allows ${limit}`);
  if (failed > 0) problems.push(`${failed} calls failed instead of waiting for a slot`);
  return { busiest, problems };
}

// ——— dog-pile (seed 003) ———

export function checkDogPile(requests: number, answers: readonly unknown[], computations: number): string[] {
  const problems: string[] = [];
  if (computations !== 1) problems.push(`the value was computed ${computations}× (want exactly once)`);
  if (answers.length !== requests) problems.push(`${answers.length} of ${requests} requests answered`);
  const distinct = new Set(answers.map((a) => JSON.stringify(a)));
  if (distinct.size > 1) problems.push(`requests got ${distinct.size} different values`);
  return problems;
}

// ——— cron across instances (seed 004) ———

export interface TickReport {
  readonly instance: string;
  /** ISO fire time. */
  readonly fireTime: string;
  readonly outcome: 'ran' | 'skipped';
}

export interface CronVerdict {
  /** Fire times every instance reported on, oldest first. */
  readonly complete: readonly string[];
  readonly problems: readonly string[];
}

export function checkTicks(reports: readonly TickReport[], instances: number, wanted: number): CronVerdict {
  const byTick = new Map<string, TickReport[]>();
  for (const r of reports) byTick.set(r.fireTime, [...(byTick.get(r.fireTime) ?? []), r]);
  const problems: string[] = [];
  const complete: string[] = [];
  for (const [fireTime, tick] of [...byTick].sort(([a], [b]) => a.localeCompare(b))) {
    const runs = tick.filter((r) => r.outcome === 'ran').length;
    // Any tick, complete or not, must never run twice.
    if (runs > 1) problems.push(`${fireTime} ran on ${runs} instances`);
    if (tick.length < instances) continue;
    complete.push(fireTime);
    if (runs === 0) problems.push(`${fireTime}: every instance skipped, nobody ran it`);
    if (tick.length > instances) problems.push(`${fireTime} reported ${tick.length}× by ${instances} instances`);
  }
  if (complete.length < wanted) problems.push(`only ${complete.length} of ${wanted} ticks reached every instance`);
  return { complete, problems };
}

/** Counting what the nodes of a quorum answered. */
import type { LockState } from '../../backend.js';
import type { NodeOutcome, NodeOutcomeKind } from '../../errors.js';
import type { NodeReply, QuorumNode } from './node.js';

/** The smallest majority of `count` nodes. */
export function majorityOf(count: number): number {
  return Math.floor(count / 2) + 1;
}

/** Each node's outcome, for a QuorumError: `decide` names what a counted answer meant. */
export function outcomesOf<T>(
  nodes: readonly QuorumNode[],
  replies: readonly NodeReply<T>[],
  decide: (value: T) => NodeOutcomeKind,
): NodeOutcome[] {
  return replies.map((reply, i) => {
    const node = (nodes[i] as QuorumNode).address;
    return reply.ok ? { node, outcome: decide(reply.value) } : { node, outcome: reply.outcome, detail: reply.detail };
  });
}

/** The values of the replies that count. */
export function counted<T>(replies: readonly NodeReply<T>[]): T[] {
  return replies.flatMap((reply) => (reply.ok ? [reply.value] : []));
}

/** The k-th largest (1-based) of `values`, or undefined when there are fewer. */
export function kthLargest(values: readonly number[], k: number): number | undefined {
  return [...values].sort((a, b) => b - a)[k - 1];
}

/**
 * One view of a name from the nodes' views: the holders that a majority of nodes report (a
 * quorum fence is written to every node that granted, so their records agree), each with the
 * time until fewer than a majority hold it; the queue as a majority of nodes has it at least.
 */
export function mergeStates(name: string, states: readonly (LockState | null)[], quorum: number): LockState | null {
  const present = states.filter((state): state is LockState => state !== null);
  if (present.length === 0) return null;
  const seen = new Map<string, { count: number; expiries: number[]; holder: LockState['holders'][number] }>();
  for (const state of present) {
    for (const holder of state.holders) {
      const key = `${holder.fence}|${holder.permits}|${JSON.stringify(holder.owner)}`;
      const entry = seen.get(key) ?? { count: 0, expiries: [], holder };
      entry.count += 1;
      entry.expiries.push(holder.expiresIn);
      seen.set(key, entry);
    }
  }
  const holders = [...seen.values()]
    .filter((entry) => entry.count >= quorum)
    .map((entry) => ({ ...entry.holder, expiresIn: kthLargest(entry.expiries, quorum) ?? 0 }))
    .sort((a, b) => a.expiresIn - b.expiresIn);
  const queueLength = kthLargest(
    states.map((state) => state?.waiters.length ?? 0),
    quorum,
  );
  const queue = present.find((state) => state.waiters.length === queueLength)?.waiters ?? [];
  if (holders.length === 0 && queue.length === 0) return null;
  const described = present.find((state) => state.kind !== null) ?? present[0];
  return { name, kind: described?.kind ?? null, limit: described?.limit ?? null, holders, waiters: queue };
}

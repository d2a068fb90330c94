/**
 * Quorum fences: read the largest, write it back, then hand it out.
 *
 * Each node that grants computes its own fence (the Redis backend's `max(last + 1, its µs
 * clock)`), and each node also keeps the largest quorum fence it was told of for the name
 * (`P{N}:qf`, kept `fenceMemory` ms after the name's last grant, default 24 h). A grant's fence
 * F is the largest of the granting nodes' fences and of every answering node's memory plus one;
 * before the lease is handed out, F is written back (scripts/raise-fence.lua) to every node
 * that answered, and at least a majority must confirm. A later grant is read from a majority
 * too, and two majorities share a node: as long as the nodes that missed F's write-back plus
 * the nodes that lost their data since number at most (N − 1) / 2, a node of the later
 * majority remembers F, so the later fence is larger, whatever any node's clock says.
 */
import type { AcquireRequest, AcquireResult } from '../../backend.js';
import { nameKeys } from '../redis/keys.js';
import type { NodeReply, QuorumNode } from './node.js';
import { type QuorumScripts, runQuorumScript } from './scripts.js';

/** One node's answer to an acquire: the grant (or not) and its fence memory (or null). */
export type AcquireReply = readonly [AcquireResult, string | null];

export function fenceMemoryKey(prefix: string, name: string): string {
  return `${prefix}{${name}}:qf`;
}

/** The largest fence a granting node gave, or that any answering node remembers, plus one. */
export function quorumFence(replies: readonly NodeReply<AcquireReply>[]): bigint {
  let fence = 0n;
  for (const reply of replies) {
    if (!reply.ok) continue;
    const [result, memory] = reply.value;
    if (result.granted && result.fence > fence) fence = result.fence;
    if (memory !== null && /^\d+$/.test(memory) && BigInt(memory) >= fence) fence = BigInt(memory) + 1n;
  }
  return fence;
}

interface WriteBackParts {
  readonly prefix: string;
  readonly timeout: number;
  readonly fenceMemory: number;
  readonly scripts: QuorumScripts;
}

/**
 * Writes `fence` to every node that answered, publishing the grant's event there (events.ts);
 * resolves with how many counted nodes confirmed.
 */
export async function writeBack(
  nodes: readonly QuorumNode[],
  replies: readonly NodeReply<AcquireReply>[],
  fence: bigint,
  request: AcquireRequest,
  parts: WriteBackParts,
  event: { readonly channel: string; readonly message: string },
): Promise<number> {
  const [, , , data] = nameKeys(parts.prefix, request.name);
  const keys = [data, fenceMemoryKey(parts.prefix, request.name)];
  const args = [request.token, fence.toString(), parts.fenceMemory, event.channel, event.message];
  const acks = await Promise.all(
    nodes.map(async (node, i) => {
      if (!replies[i]?.ok) return false;
      const reply = await node.call(
        (_, client) => runQuorumScript(client, parts.scripts.raiseFence, keys, args),
        parts.timeout,
        () => performance.now(),
      );
      return reply.ok;
    }),
  );
  return acks.filter(Boolean).length;
}

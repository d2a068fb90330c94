/**
 * Quorum fences: number the grant on every node, hand out the largest number, and write it
 * back only when the nodes disagree.
 *
 * Each node keeps the largest quorum fence it knows for the name (`P{N}:qf`, its *memory*,
 * kept `fenceMemory` ms after the name's last grant, default 24 h). A node that grants numbers
 * the grant in the same script run (scripts/node-op.lua): memory + 1, which it stores as its
 * memory (a node that remembers nothing starts from the larger of its own `max(last + 1, µs
 * clock)` fence and the client's clock + 1 s, sent alike to every node, so a new name's nodes
 * agree too); a token asking again for a grant it already has keeps its number unless the node
 * has learnt a larger fence since, then it is numbered again. So every granting node answers
 * with a number above its memory before the call, or equal to it only for the very lease that
 * memory came from. A grant's fence F is the largest number the granting nodes gave.
 *
 * Why F exceeds every earlier fence F0 of the name: F0 was handed out only once it was stored
 * in the memory of a set S0 of at least a majority of nodes, either because a majority numbered
 * the grant F0 themselves (each stores what it numbers, in the same atomic run), or because a
 * majority acknowledged the write-back of F0 (scripts/raise-fence.lua raises each memory to at
 * least F0). The nodes that grant F are a majority too, so they share a node with S0 (as long
 * as the nodes that lost their data since, plus those of the majority that missed F0, number at
 * most (N − 1) / 2). That node's memory is at least F0, and memories only grow (until unused
 * for fenceMemory), so its number for F is memory + 1 > F0; F, the largest, is larger still.
 * No clock takes part once a memory exists, so one node's clock far ahead or behind changes
 * nothing; the µs clock only seeds a memory that is missing everywhere.
 *
 * Skipping the write-back (ABD's "skip the write phase" for a read that found its value on a
 * majority): when at least a majority of the granting nodes numbered the grant exactly F, F is
 * already in the memory of a majority, which is all the argument above asks of F0. Only when
 * they disagree (a node restarted empty or missed earlier grants, a partial grant, a node
 * whose own clock is ahead of the seed) is F written back and at least a majority must acknowledge it before the lease is
 * handed out. Nodes in step agree, so the common grant costs one round trip.
 */
import type { AcquireRequest } from '../../backend.js';
import { nameKeys } from '../redis/keys.js';
import type { NodeReply, QuorumNode } from './node.js';
import { type AcquireReply, fenceMemoryKey } from './node-ops.js';
import { type QuorumScripts, runQuorumScript } from './scripts.js';

export interface QuorumFence {
  readonly fence: bigint;
  /** Indexes of the nodes whose memory holds the fence already (they numbered the grant so). */
  readonly stored: readonly number[];
  /** Whether any node said someone listens for the name's grant events. */
  readonly listening: boolean;
}

/** The largest number the granting nodes gave the grant, and which nodes gave exactly that. */
export function quorumFence(replies: readonly NodeReply<AcquireReply>[]): QuorumFence {
  let fence = 0n;
  let listening = false;
  for (const reply of replies) {
    if (!reply.ok) continue;
    const [result, listens] = reply.value;
    listening ||= listens;
    if (result.granted && result.fence > fence) fence = result.fence;
  }
  const stored = replies.flatMap((reply, i) =>
    reply.ok && reply.value[0].granted && reply.value[0].fence === fence ? [i] : [],
  );
  return { fence, stored, listening };
}

interface WriteBackParts {
  readonly prefix: string;
  readonly timeout: number;
  readonly fenceMemory: number;
  readonly scripts: QuorumScripts;
}

/**
 * Writes `fence` to each node of `targets` (raising its memory, the data hash's fence and the
 * lease's record), publishing the grant's event there when `event` is given (events.ts);
 * resolves with how many confirmed.
 */
export async function writeBack(
  targets: readonly QuorumNode[],
  fence: bigint,
  request: AcquireRequest,
  parts: WriteBackParts,
  event: { readonly channel: string; readonly message: string } | null,
): Promise<number> {
  const [, , , data] = nameKeys(parts.prefix, request.name);
  const keys = [data, fenceMemoryKey(parts.prefix, request.name)];
  const args = [request.token, fence.toString(), parts.fenceMemory, event?.channel ?? '', event?.message ?? ''];
  const acks = await Promise.all(
    targets.map(async (node) => {
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

/**
 * The fence of a grant a majority made, or null when its write-back was not confirmed by a
 * majority. Nodes that agree need no write-back: the grant's event is published where someone
 * listens, and nodes that answered with another number are brought up to the fence in the
 * background (`background` tracks that work).
 */
export async function settleFence(
  nodes: readonly QuorumNode[],
  quorum: number,
  replies: readonly NodeReply<AcquireReply>[],
  request: AcquireRequest,
  parts: WriteBackParts,
  hooks: {
    readonly event: (fence: bigint) => { readonly channel: string; readonly message: string };
    readonly background: (work: Promise<unknown>) => void;
  },
): Promise<bigint | null> {
  const { fence, stored, listening } = quorumFence(replies);
  const event = listening ? hooks.event(fence) : null;
  const answered = nodes.filter((_, i) => replies[i]?.ok === true);
  if (stored.length >= quorum) {
    if (event !== null) for (const node of answered) node.publish(event.channel, event.message);
    const behind = answered.filter((node) => !stored.includes(node.index));
    if (behind.length > 0) hooks.background(writeBack(behind, fence, request, parts, null));
    return fence;
  }
  const acks = await writeBack(answered, fence, request, parts, event);
  return acks >= quorum ? fence : null;
}

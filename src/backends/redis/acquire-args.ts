/**
 * The arguments of scripts/acquire.lua, in the order it reads ARGV: the one place that order is
 * written, for the Redis backend and for the quorum's node-op.lua (which runs acquire.lua's code
 * on each node).
 */
import type { AcquireRequest } from '../../backend.js';
import type { ScriptArg } from './scripts.js';

/** `address`: the client id its wake-ups go to (`#`-marked for a shard channel, shard-wakes.ts). */
export function acquireArgs(prefix: string, request: AcquireRequest, address: string): ScriptArg[] {
  return [
    prefix,
    request.name,
    request.token,
    request.permits,
    request.limit,
    request.ttl,
    request.enqueue ? '1' : '0',
    request.waiterTtl,
    address,
    request.owner,
    request.kind,
    request.claimTtl,
  ];
}

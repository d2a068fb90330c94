/**
 * A "fenced resource": a Redis hash that accepts a write only with a fence above the highest it
 * has seen (DESIGN.md §5: a resource that stores the highest fence can reject a stale holder).
 * Fences are compared as decimal strings (length, then text), so no precision is lost.
 */
import type { Redis } from 'ioredis';

const CHECK_AND_SET = `
local seen, fence = redis.call('HGET', KEYS[1], 'fence'), ARGV[1]
if seen and (#seen > #fence or (#seen == #fence and seen >= fence)) then return 0 end
redis.call('HSET', KEYS[1], 'fence', fence, 'value', ARGV[2])
return 1`;

/** Writes `value` when `fence` is above every fence the resource saw; true when it wrote. */
export async function fencedWrite(redis: Redis, key: string, fence: bigint, value: string): Promise<boolean> {
  return (await redis.eval(CHECK_AND_SET, 1, key, fence.toString(), value)) === 1;
}

export async function readResource(redis: Redis, key: string): Promise<{ fence: string | null; value: string | null }> {
  const [fence = null, value = null] = await redis.hmget(key, 'fence', 'value');
  return { fence, value };
}

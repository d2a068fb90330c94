/** Who may connect: loopback binds may go without a token; anything else needs one. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/**
 * Compares a presented token with the configured one in constant time: both are hashed first,
 * so neither their contents nor their lengths show in the time taken.
 */
export function tokenChecker(expected: string): (presented: string) => boolean {
  const want = createHash('sha256').update(expected, 'utf8').digest();
  return (presented) => timingSafeEqual(createHash('sha256').update(presented, 'utf8').digest(), want);
}

/**
 * Whether binding `host` exposes the server only to this machine. Only literal loopback
 * addresses and `localhost` count; any other name might resolve to a public interface.
 */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIPv4(bare)) return bare.startsWith('127.');
  if (isIPv6(bare)) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

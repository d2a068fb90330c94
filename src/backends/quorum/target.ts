/**
 * `connect({ redlock: [urlA, urlB, urlC], … })`: the node list and the quorum's own options,
 * checked before any I/O.
 */
import { ValidationError } from '../../errors.js';
import { checkBoolean, checkMs, checkOptions, optional } from '../../util/validate.js';

export interface RedlockTarget {
  /** redis:// or rediss:// URLs of independent masters (no replicas of each other); odd, ≥ 3. */
  readonly redlock: readonly string[];
  /**
   * The longest TTL any client of this set may use, in ms (default 60 000): a restarted node
   * stays out of every quorum for this long. Longer leases are refused.
   */
  readonly maxTtl?: number;
  /**
   * Keep a restarted node out of quorums for `maxTtl` (default true). Turn off only when every
   * node persists each write before answering (`appendfsync always`).
   */
  readonly restartGuard?: boolean;
  /** How long each node remembers a name's last fence after its last use, in ms (default 24 h). */
  readonly fenceMemory?: number;
}

export interface QuorumSettings {
  readonly urls: readonly string[];
  /** host:port per node, for messages. */
  readonly addresses: readonly string[];
  readonly maxTtl: number;
  readonly restartGuard: boolean;
  readonly fenceMemory: number;
}

export const DEFAULT_MAX_TTL = 60_000;
export const DEFAULT_FENCE_MEMORY = 24 * 3600_000;
const KEYS = ['redlock', 'maxTtl', 'restartGuard', 'fenceMemory'] as const;
const MAX_NODES = 15;

export function parseRedlockTarget(target: unknown): QuorumSettings {
  const raw = checkOptions<RedlockTarget>(target, KEYS, '{ redlock } target');
  const urls = raw.redlock;
  if (!Array.isArray(urls) || !urls.every((url) => typeof url === 'string')) {
    throw new ValidationError('{ redlock } must be an array of redis:// URLs');
  }
  if (urls.length < 3 || urls.length % 2 === 0 || urls.length > MAX_NODES) {
    throw new ValidationError(
      `{ redlock } needs an odd number of nodes from 3 to ${MAX_NODES} (a majority of an even set tolerates no more failures than the odd set below it), got ${urls.length}`,
    );
  }
  const addresses = urls.map(addressOf);
  const seen = new Set<string>();
  for (const address of addresses) {
    if (seen.has(address)) throw new ValidationError(`{ redlock } lists ${address} twice: each node counts once`);
    seen.add(address);
  }
  return {
    urls,
    addresses,
    maxTtl: optional(raw.maxTtl, (v) => checkMs(v, 'maxTtl')) ?? DEFAULT_MAX_TTL,
    restartGuard: optional(raw.restartGuard, (v) => checkBoolean(v, 'restartGuard')) ?? true,
    fenceMemory: optional(raw.fenceMemory, (v) => checkMs(v, 'fenceMemory')) ?? DEFAULT_FENCE_MEMORY,
  };
}

function addressOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(`{ redlock } node ${JSON.stringify(url.slice(0, 64))} is not a URL`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ValidationError(`{ redlock } nodes must be redis:// or rediss:// URLs, got ${parsed.protocol}//`);
  }
  if (parsed.hostname === '') throw new ValidationError(`{ redlock } node ${JSON.stringify(url)} has no host`);
  return `${parsed.hostname.toLowerCase()}:${parsed.port || '6379'}`;
}

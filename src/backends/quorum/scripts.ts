/**
 * The scripts the quorum adds to the Redis backend's (which it runs unchanged on every node):
 * the restart guard's epoch, the fence write-back, and the node operation that runs the Redis
 * backend's acquire, release or force-release and numbers its grants in the same run
 * (scripts/node-op.lua). Their text comes from lua-sources.generated.ts (scripts/inline-lua.mjs
 * writes it from scripts/*.lua); they run by SHA with an EVAL fallback on NOSCRIPT (a restarted
 * node has an empty script cache).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { scriptFunction } from '../redis/scripts.js';
import { LUA_FILES } from './lua-sources.generated.js';

export interface QuorumScript {
  readonly source: string;
  readonly sha: string;
}

export interface QuorumScripts {
  readonly epoch: QuorumScript;
  readonly raiseFence: QuorumScript;
  readonly nodeOp: QuorumScript;
}

function script(file: string, before = ''): QuorumScript {
  const own = LUA_FILES[file];
  if (own === undefined) throw new Error(`the quorum script ${file} is missing from the build`);
  const source = before + own;
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * The Redis backend's operations node-op.lua runs, each as a function of its own, in their
 * expansion for one Redis (no slot-migration probe): every node is an independent server.
 */
function operations(): string {
  return (
    scriptFunction('acquire', 'acquire') +
    scriptFunction('release', 'release') +
    scriptFunction('force-release', 'forceRelease') +
    scriptFunction('unfold', 'unfold')
  );
}

let loaded: QuorumScripts | undefined;

export async function loadQuorumScripts(): Promise<QuorumScripts> {
  loaded ??= {
    epoch: script('epoch.lua'),
    raiseFence: script('raise-fence.lua'),
    nodeOp: script('node-op.lua', operations()),
  };
  return loaded;
}

export async function runQuorumScript(
  client: Redis,
  script: QuorumScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
    return await client.eval(script.source, keys.length, ...keys, ...args);
  }
}

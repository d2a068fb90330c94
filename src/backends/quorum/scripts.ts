/**
 * The two scripts the quorum adds to the Redis backend's (which it runs unchanged on every
 * node): the restart guard's epoch and the fence write-back. Their text comes from
 * lua-sources.generated.ts (scripts/inline-lua.mjs writes it from scripts/*.lua); they run by
 * SHA with an EVAL fallback on NOSCRIPT (a restarted node has an empty script cache).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LUA_FILES } from './lua-sources.generated.js';

export interface QuorumScript {
  readonly source: string;
  readonly sha: string;
}

export interface QuorumScripts {
  readonly epoch: QuorumScript;
  readonly raiseFence: QuorumScript;
}

function script(file: string): QuorumScript {
  const source = LUA_FILES[file];
  if (source === undefined) throw new Error(`the quorum script ${file} is missing from the build`);
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

let loaded: QuorumScripts | undefined;

export async function loadQuorumScripts(): Promise<QuorumScripts> {
  loaded ??= { epoch: script('epoch.lua'), raiseFence: script('raise-fence.lua') };
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

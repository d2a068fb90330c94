/**
 * Loads the server-side operations in `scripts/*.lua` and runs them by SHA.
 *
 * The .lua texts come from lua-sources.generated.ts, which scripts/inline-lua.mjs writes from
 * the .lua files at build time, so the compiled (or bundled) code needs no files beside it.
 * Each script is expanded once per process, with every `--- @include "path"` line replaced by that
 * file (relative to the including file, `.lua` implied, each include inlined once per
 * script). An include may stand after a script's early return: Lua creates a function only
 * when a run reaches its definition, and each one costs the run (scripts/includes/name.lua). Scripts run with EVALSHA; on NOSCRIPT (a `SCRIPT FLUSH`, a restarted or failed-over
 * server) the same call is repeated with EVAL, which also caches the script again. Nothing is
 * registered on the client (no `defineCommand`), so a user's ioredis client stays untouched.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Command } from 'ioredis';
import { bySlot, isCluster, type RedisConnection } from './cluster.js';
import { LUA_FILES } from './lua-sources.generated.js';

export type ScriptName =
  | 'acquire'
  | 'release'
  | 'extend'
  | 'inspect'
  | 'force-release'
  | 'sweep'
  | 'unfold'
  | 'rate-take'
  | 'rate-leave'
  | 'batch';

const SCRIPT_NAMES: readonly ScriptName[] = [
  'acquire',
  'release',
  'extend',
  'inspect',
  'force-release',
  'sweep',
  'unfold',
  'rate-take',
  'rate-leave',
  'batch',
];

/**
 * The scripts batch.lua runs as functions, each wrapped unchanged (its includes inlined afresh
 * inside the function) and put in front of batch.lua's own text.
 */
const BATCHED: readonly ScriptName[] = ['acquire', 'release'];

/**
 * Every script takes the four keys of one name, or of one rate limiter (see keys.ts), so it
 * stays in one hash slot; batch.lua takes four per operation.
 */
const KEY_COUNT = 4;

export interface Script {
  readonly name: ScriptName;
  readonly source: string;
  readonly sha: string;
}

export type Scripts = { readonly [N in ScriptName]: Script };

export type ScriptArg = string | number;

export interface ScriptCall {
  readonly keys: readonly string[];
  readonly args: readonly ScriptArg[];
}

/** One pipelined call's outcome: a failure of one call does not hide the others' results. */
export type Settled = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

const INCLUDE_LINE = /^--- @include "([^"]+)"\s*$/;

/**
 * Which expansion of the scripts: 'cluster' reads the migration probe first (includes/
 * stable-slot.lua), 'standalone' leaves it out. A slot migrates only on a Redis Cluster, so on
 * one Redis (and on a quorum's independent nodes) the probe is a redis.call that guards
 * nothing: one EXISTS and its dispatch, ~1 µs of Redis CPU per script call, measured.
 */
export type Topology = 'cluster' | 'standalone';

const STABLE_SLOT = 'includes/stable-slot.lua';

// The texts never change while the process runs, so expanding them once is enough.
const loading = new Map<Topology, Promise<Scripts>>();

/** The scripts for a connection: pass `isCluster(client)` (cluster.ts). */
export function loadScripts(cluster: boolean): Promise<Scripts> {
  const topology: Topology = cluster ? 'cluster' : 'standalone';
  let scripts = loading.get(topology);
  if (scripts === undefined) {
    scripts = Promise.resolve().then(() => expandAll(topology));
    loading.set(topology, scripts);
  }
  return scripts;
}

function expandAll(topology: Topology): Scripts {
  const entries = SCRIPT_NAMES.map((name): [ScriptName, Script] => {
    const source = sourceOf(name, topology);
    const sha = createHash('sha1').update(source).digest('hex');
    return [name, { name, source, sha }];
  });
  return Object.fromEntries(entries) as Record<ScriptName, Script>;
}

/**
 * A script's text. SHARED (includes/now.lua) is what batch.lua's operations share within one
 * run: each batched script is wrapped as a function taking it; a standalone script, and
 * batch.lua's own code around its operations, have SHARED = nil.
 */
function sourceOf(name: ScriptName, topology: Topology): string {
  const own = expand(`${name}.lua`, includedAlready(topology));
  const operations =
    name === 'batch' ? BATCHED.map((op) => scriptFunction(op, op, { shared: true, topology })).join('') : '';
  return `local SHARED = nil\n${operations}${own}`;
}

/** The includes an expansion leaves out: the probe, where no slot can migrate. */
function includedAlready(topology: Topology): Set<string> {
  return new Set(topology === 'cluster' ? [] : [STABLE_SLOT]);
}

/**
 * Script `name` unchanged inside `local function <as>(KEYS, ARGV) … end`, its includes inlined
 * afresh inside the function: for a script that runs it as one step of its own (batch.lua
 * here, the quorum backend's node operations, on independent Redis servers: 'standalone', the
 * default). `shared`: the function takes batch.lua's SHARED as a third parameter (includes/
 * now.lua); without it the function has its own `SHARED = nil`, as a standalone script.
 */
export function scriptFunction(
  name: ScriptName,
  as: string,
  { shared = false, topology = 'standalone' }: { readonly shared?: boolean; readonly topology?: Topology } = {},
): string {
  if (!shared) return `local function ${as}(KEYS, ARGV)\n${sourceOf(name, topology)}\nend\n`;
  return `local function ${as}(KEYS, ARGV, SHARED)\n${expand(`${name}.lua`, includedAlready(topology))}\nend\n`;
}

/**
 * A script as it runs on one Redis, expanded from `files` (a path under scripts/ → its text)
 * instead of this version's: test/redis-upgrade.test.ts runs an earlier version's scripts,
 * kept as their sources, expanded as that version expanded them.
 */
export function standaloneSourceFrom(files: Readonly<Record<string, string>>, name: string): string {
  return `local SHARED = nil\n${expand(`${name}.lua`, includedAlready('standalone'), files)}`;
}

/** `file` is a path under scripts/ ('includes/drain.lua'), read from `files`. */
function expand(file: string, included: Set<string>, files: Readonly<Record<string, string>> = LUA_FILES): string {
  const text = files[file];
  if (text === undefined) throw new Error(`no Lua script ${file} (run scripts/inline-lua.mjs after adding one)`);
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const path = INCLUDE_LINE.exec(line)?.[1];
    if (path === undefined) {
      lines.push(line);
      continue;
    }
    const target = posix.join(posix.dirname(file), path.endsWith('.lua') ? path : `${path}.lua`);
    // Lua needs a local function defined before its first use, so only the first copy stays.
    if (included.has(target)) continue;
    included.add(target);
    lines.push(expand(target, included, files));
  }
  return lines.join('\n');
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * A script refused by its first line because its slot is being migrated away (scripts/includes/
 * stable-slot.lua): it wrote nothing, so it is sent again.
 */
function isMigrating(error: unknown): boolean {
  return error instanceof Error && error.message.includes('attempted to access a non local key');
}

/**
 * How long after its first refusal a call is sent again while its slot is being migrated (a
 * migration takes ms to s).
 */
const MIGRATION_RETRY_MS = 5000;
const MIGRATION_RETRY_DELAY_MS = 25;

/**
 * One script call. Plain promise chains rather than async functions: this runs twice per
 * acquire+release, and each async layer costs a promise and a turn of the microtask queue.
 */
export function runScript(client: RedisConnection, script: Script, call: ScriptCall): Promise<unknown> {
  // One catch for both the NOSCRIPT and the migration retries: one promise per call, not two.
  return bySha(client, script, call).catch((error: unknown) =>
    isNoScript(error)
      ? bySource(client, script, call).catch((again: unknown) => againWhileMigrating(client, script, call, again))
      : againWhileMigrating(client, script, call, error),
  );
}

/** After a refusal: the call sent again while its slot is being migrated, else `error` as it is. */
function againWhileMigrating(
  client: RedisConnection,
  script: Script,
  call: ScriptCall,
  error: unknown,
): Promise<unknown> {
  if (!isMigrating(error)) return Promise.reject(error);
  return runWhileMigrating(client, script, call, Date.now() + MIGRATION_RETRY_MS);
}

/** Sends the call again until its slot's migration is over, or `until`. */
async function runWhileMigrating(
  client: RedisConnection,
  script: Script,
  call: ScriptCall,
  until: number,
): Promise<unknown> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, MIGRATION_RETRY_DELAY_MS));
    try {
      return await runScriptOnce(client, script, call);
    } catch (error) {
      if (!isMigrating(error) || Date.now() >= until) throw error;
    }
  }
}

/** The call by SHA, and again with EVAL after NOSCRIPT (which also caches the script). */
function runScriptOnce(client: RedisConnection, script: Script, call: ScriptCall): Promise<unknown> {
  return bySha(client, script, call).catch((error: unknown) => {
    if (!isNoScript(error)) throw error;
    return bySource(client, script, call);
  });
}

function bySha(client: RedisConnection, script: Script, call: ScriptCall): Promise<unknown> {
  if (!sendsAsBuilt(client)) return client.evalsha(script.sha, call.keys.length, ...call.keys, ...call.args);
  // ioredis copies a command's arguments with Array.prototype.flat(), which V8 runs at ~75 ns
  // an element (a batch of 32 operations has ~600: ~45 µs, ~1.5 µs an operation, measured):
  // the command is made with none and given the array built here, flat and in strings (what
  // ioredis does to the arguments it is given, String() for a number, when the command is made).
  const command = new Command('evalsha', [], UTF8_REPLY);
  const { keys, args } = call;
  const argv: string[] = new Array(2 + keys.length + args.length);
  argv[0] = script.sha;
  argv[1] = String(keys.length);
  let at = 2;
  for (const key of keys) argv[at++] = key;
  for (const arg of args) argv[at++] = typeof arg === 'string' ? arg : String(arg);
  command.args = argv;
  return client.sendCommand(command) as Promise<unknown>;
}

/** What ioredis's own `evalsha` passes for a command with string replies. */
const UTF8_REPLY = { replyEncoding: 'utf8' } as const;

/**
 * Whether a command built here goes out exactly as ioredis's `evalsha` would send it: not when
 * ioredis would add a key prefix (it prefixes the arguments it is given when the command is
 * made), queue it for auto-pipelining (sent directly, it would pass the commands queued before
 * it) or record a stack for friendly errors.
 */
function sendsAsBuilt(client: RedisConnection): boolean {
  const { keyPrefix, enableAutoPipelining, showFriendlyErrorStack } = client.options;
  return !keyPrefix && !enableAutoPipelining && !showFriendlyErrorStack;
}

function bySource(client: RedisConnection, script: Script, call: ScriptCall): Promise<unknown> {
  return client.eval(script.source, call.keys.length, ...call.keys, ...call.args);
}

/**
 * Many calls of one script in one round trip (a pipeline, not a multi-key script, so each call
 * may live in its own cluster slot). On a cluster, a pipeline must stay on one node, and a slot
 * may move between nodes at any time: one pipeline per slot, all sent at once (so still one
 * round trip of wall time), each of which ioredis follows through MOVED and ASK.
 */
export async function runScriptMany(
  client: RedisConnection,
  script: Script,
  calls: readonly ScriptCall[],
): Promise<Settled[]> {
  if (!isCluster(client)) return runScriptPipeline(client, script, calls);
  const results = await runBySlot(client, script, calls);
  // Calls of a slot being migrated wrote nothing: each is sent again on its own until it runs.
  await Promise.all(
    results.map(async (result, index) => {
      if (result.ok || !isMigrating(result.error)) return;
      try {
        results[index] = { ok: true, value: await runScript(client, script, calls[index] as ScriptCall) };
      } catch (error) {
        results[index] = { ok: false, error };
      }
    }),
  );
  return results;
}

async function runBySlot(client: RedisConnection, script: Script, calls: readonly ScriptCall[]): Promise<Settled[]> {
  const results: Settled[] = new Array(calls.length);
  const groups = [...bySlot(calls, (call) => call.keys[0] ?? '').values()];
  await Promise.all(
    groups.map(async (indexes) => {
      const settled = await runScriptPipeline(
        client,
        script,
        indexes.map((index) => calls[index] as ScriptCall),
      );
      indexes.forEach((index, i) => {
        results[index] = settled[i] as Settled;
      });
    }),
  );
  return results;
}

/**
 * Calls that met NOSCRIPT did not run; they are sent again with EVAL in a second pipeline.
 */
async function runScriptPipeline(
  client: RedisConnection,
  script: Script,
  calls: readonly ScriptCall[],
): Promise<Settled[]> {
  const results = await pipeline(client, calls, (p, c) => p.evalsha(script.sha, KEY_COUNT, ...c.keys, ...c.args));
  const missing = results.flatMap((result, index) => (!result.ok && isNoScript(result.error) ? [index] : []));
  if (missing.length === 0) return results;
  const retried = await pipeline(
    client,
    missing.map((index) => calls[index] as ScriptCall),
    (p, c) => p.eval(script.source, KEY_COUNT, ...c.keys, ...c.args),
  );
  missing.forEach((index, i) => {
    results[index] = retried[i] as Settled;
  });
  return results;
}

type Pipeline = ReturnType<RedisConnection['pipeline']>;

async function pipeline(
  client: RedisConnection,
  calls: readonly ScriptCall[],
  add: (p: Pipeline, call: ScriptCall) => void,
): Promise<Settled[]> {
  const p = client.pipeline();
  for (const call of calls) add(p, call);
  const replies = await p.exec();
  if (replies === null) throw new Error('the pipeline was discarded');
  return replies.map(([error, value]) => (error ? { ok: false, error } : { ok: true, value }));
}

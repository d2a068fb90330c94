/**
 * The lock operations the quorum sends to each node itself, as one script run each
 * (scripts/node-op.lua: the Redis backend's own acquire, release or force-release, then the
 * numbering of its grants). They go straight to the node's connection, in the order issued,
 * rather than through the Redis backend's per-tick batch: a release and a later acquire of one
 * client must reach each node in that order.
 */
import type { Redis } from 'ioredis';
import type { AcquireRequest, AcquireResult } from '../../backend.js';
import { BackendError } from '../../errors.js';
import { acquireArgs } from '../redis/acquire-args.js';
import { nameBase, nameKeys } from '../redis/keys.js';
import { parseAcquire, parseCount, parseRelease } from '../redis/replies.js';
import { type QuorumScript, runQuorumScript } from './scripts.js';

/** One node's answer to an acquire: the grant (with its numbered fence) or not, and whether anyone listens. */
export type AcquireReply = readonly [AcquireResult, boolean];

/** The node's memory of the name's largest quorum fence, beside the name's own keys (same hash tag). */
export function fenceMemoryKey(prefix: string, name: string): string {
  return `${nameBase(prefix, name)}:qf`;
}

/** Where the client publishes a grant's event (events.ts). */
export function grantChannel(prefix: string, name: string): string {
  return `${prefix}qev:${name}`;
}

/** How far ahead of the client's clock a new name's first fence starts (node-op.lua). */
const SEED_AHEAD_US = 1_000_000;

/**
 * The least first number of a node that remembers nothing, taken once per operation and sent
 * to every node it asks (one reading of the clock: a millisecond tick between two nodes'
 * requests would split them), so nodes agree on a new name's fence unless one's own fence is
 * larger (its clock more than a second ahead, or an earlier fence of its own): then the
 * largest is written back.
 */
export function numberSeed(): string {
  return String(Date.now() * 1000 + SEED_AHEAD_US);
}

export class NodeOps {
  readonly #prefix: string;
  readonly #clientId: string;
  readonly #fenceMemory: number;
  readonly #script: QuorumScript;

  constructor(prefix: string, clientId: string, fenceMemory: number, script: QuorumScript) {
    this.#prefix = prefix;
    this.#clientId = clientId;
    this.#fenceMemory = fenceMemory;
    this.#script = script;
  }

  async acquire(client: Redis, seed: string, request: AcquireRequest): Promise<AcquireReply> {
    const what = `acquire "${request.name}"`;
    // every node wakes this client on its own channel there (the same id on every node)
    const args = acquireArgs(this.#prefix, request, this.#clientId);
    const [reply, listening] = await this.#run(client, seed, 'a', request.name, args, what);
    return [parseAcquire(reply, what), listening];
  }

  /** Whether the token held the name. */
  async release(client: Redis, seed: string, name: string, token: string): Promise<boolean> {
    const what = `release "${name}"`;
    const [reply] = await this.#run(client, seed, 'r', name, [this.#prefix, name, token], what);
    return parseRelease(reply, what) !== 0;
  }

  async forceRelease(client: Redis, seed: string, name: string): Promise<number> {
    const what = `forceRelease "${name}"`;
    const [reply] = await this.#run(client, seed, 'f', name, [this.#prefix, name], what);
    return parseCount(reply, what);
  }

  async #run(
    client: Redis,
    seed: string,
    op: 'a' | 'r' | 'f',
    name: string,
    args: readonly (string | number)[],
    what: string,
  ): Promise<[unknown, boolean]> {
    const keys = [...nameKeys(this.#prefix, name), fenceMemoryKey(this.#prefix, name)];
    const context = [op, this.#fenceMemory, grantChannel(this.#prefix, name), seed];
    const reply = await runQuorumScript(client, this.#script, keys, [...context, ...args]);
    if (!Array.isArray(reply) || reply.length !== 2) {
      throw new BackendError(`${what} failed: unexpected reply ${JSON.stringify(reply)}`);
    }
    return [reply[0], reply[1] === 1];
  }
}

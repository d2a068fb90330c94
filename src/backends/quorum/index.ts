/**
 * `connect({ redlock: [urlA, urlB, urlC] })`: opens every node, refuses a node listed twice
 * (two URLs, one server) or a replica, and resolves once a majority is verified; nodes that are
 * down join when they come up.
 */
import type { BackendContext } from '../../backend.js';
import { asBackendError, QuorumError, ValidationError } from '../../errors.js';
import { commandTimeoutOf, type NetworkBackendOptions } from '../options.js';
import type { ConnectTarget, OpenOptions } from '../registry.js';
import { QuorumBackend } from './backend.js';
import { type NodeHooks, type NodeSettings, type Probe, QuorumNode } from './node.js';
import { NodeOps } from './node-ops.js';
import { loadQuorumScripts } from './scripts.js';
import { majorityOf } from './tally.js';
import { parseRedlockTarget } from './target.js';
import { Wakes } from './wakes.js';

export { QuorumBackend } from './backend.js';
export type { NodeStatus } from './node.js';
export type { RedlockTarget } from './target.js';

/** The registry's entry point: `{ redlock: [...] }`. */
export function open(target: ConnectTarget, context: BackendContext, options: OpenOptions): Promise<QuorumBackend> {
  return createQuorumBackend(
    target,
    context,
    options.commandTimeout === undefined ? {} : { commandTimeout: options.commandTimeout },
  );
}

/** How long connect() waits for every node's first answer (ioredis' own connectTimeout is 10 s). */
const CONNECT_BUDGET_MS = 10_000;

export async function createQuorumBackend(
  target: unknown,
  context: BackendContext,
  options: NetworkBackendOptions & { readonly allowEviction?: boolean } = {},
): Promise<QuorumBackend> {
  const settings = parseRedlockTarget(target);
  const timeout = commandTimeoutOf(options);
  const scripts = await loadQuorumScripts().catch((error: unknown) => {
    throw asBackendError(error, 'loading the quorum scripts');
  });
  const quorum = majorityOf(settings.urls.length);
  const wakes = new Wakes(context, quorum);
  const startup = new Startup(settings.urls.length, quorum);
  const nodeSettings: NodeSettings = {
    timeout,
    guardMs: settings.maxTtl,
    restartGuard: settings.restartGuard,
    epochKey: `${context.prefix}quorum:epoch`,
    allowEviction: options.allowEviction === true,
  };
  const nodes: QuorumNode[] = [];
  const hooks: NodeHooks = {
    modeFor: (_node, probe) => startup.modeFor(probe),
    refusal: (node, probe) => refusal(nodes, node, probe),
  };
  settings.urls.forEach((url, index) => {
    const nodeContext: BackendContext = {
      ...context,
      onWake: (token, grant, retryAfter) => wakes.fromNode(index, token, grant, retryAfter),
    };
    const parts = { settings: nodeSettings, context: nodeContext, scripts, hooks };
    nodes.push(new QuorumNode(index, url, settings.addresses[index] as string, parts));
  });
  const backend = new QuorumBackend({
    nodes,
    wakes,
    clientId: context.clientId,
    prefix: context.prefix,
    timeout,
    maxTtl: settings.maxTtl,
    fenceMemory: settings.fenceMemory,
    scripts,
    ops: new NodeOps(context.prefix, context.clientId, settings.fenceMemory, scripts.nodeOp),
  });
  // Every node gets CONNECT_BUDGET_MS (or the command timeout, if longer) to answer its first
  // probe; then the set is judged without it. A refused connection answers at once, so only a
  // silent node makes connect() wait this long; one command timeout was too short for a loaded
  // machine, where all five nodes of a test sometimes took over 2 s to connect.
  let deadline: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    deadline = setTimeout(resolve, Math.max(timeout, CONNECT_BUDGET_MS));
  });
  await Promise.race([Promise.all(nodes.map((node) => node.started)), late]);
  clearTimeout(deadline);
  startup.giveUp();
  const refused = nodes.find((node) => node.refused !== null);
  const now = performance.now();
  if (refused !== undefined || nodes.filter((node) => node.open).length < quorum) {
    await backend.close();
    if (refused !== undefined) throw new ValidationError(`{ redlock } node ${refused.address}: ${refused.refused}`);
    throw new QuorumError(
      'read',
      'connecting to the quorum',
      quorum,
      nodes.map((node) => {
        const status = node.status(now);
        const outcome = node.open ? 'granted' : 'unreachable';
        return status.detail === undefined || node.open
          ? { node: node.address, outcome }
          : { node: node.address, outcome, detail: status.detail };
      }),
    );
  }
  return backend;
}

/** A node must be a master, and not the same server as another listed node. */
function refusal(nodes: readonly QuorumNode[], node: QuorumNode, probe: Probe): string | null {
  if (probe.role !== 'master') return `is a ${probe.role || 'non-master'}, not an independent master`;
  const twin = nodes.find((other) => other !== node && other.runId === probe.runId && other.refused === null);
  return twin ? `is the same server as ${twin.address} (run_id ${probe.runId}): each node counts once` : null;
}

/**
 * Whether the set is fresh. A node without an epoch is a node that restarted empty, unless
 * fewer than a majority of nodes have one: then no lease can be held on the set, and a new set
 * need not wait out the guard. Decided once, from every node's first probe (or whoever answered
 * within the connect timeout); later (re)connects always guard.
 */
class Startup {
  readonly #count: number;
  readonly #quorum: number;
  #probes: Probe[] = [];
  #done = false;
  #waiting: (() => void)[] = [];

  constructor(count: number, quorum: number) {
    this.#count = count;
    this.#quorum = quorum;
  }

  async modeFor(probe: Probe): Promise<'open' | 'guard'> {
    if (this.#done) return 'guard';
    this.#probes.push(probe);
    if (this.#probes.length >= this.#count) this.#finish();
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    const known = this.#probes.filter((p) => p.epochKnown).length;
    return known < this.#quorum ? 'open' : 'guard';
  }

  giveUp(): void {
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    for (const resolve of this.#waiting) resolve();
    this.#waiting = [];
  }
}

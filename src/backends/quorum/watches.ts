/**
 * `watch` on a quorum: one subscriber connection per node, made on the first watch, whose
 * messages events.ts turns into one stream; and the event a grant publishes with its fence
 * write-back.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AcquireRequest, BackendEvent } from '../../backend.js';
import { QuorumError } from '../../errors.js';
import { resubscribeOnReady, withTimeout } from '../redis/connection.js';
import { QuorumEvents } from './events.js';
import type { QuorumNode } from './node.js';
import { grantChannel } from './node-ops.js';

/** The event of a grant with quorum fence `fence` (a hand-off when the token had queued). */
export function grantEvent(
  prefix: string,
  request: AcquireRequest,
  fence: bigint,
  handoff: boolean,
): { channel: string; message: string } {
  const message = JSON.stringify({
    t: handoff ? 'handoff' : 'acquired',
    f: fence.toString(),
    p: request.permits,
    o: request.owner,
    e: request.ttl,
    n: request.name,
    k: request.kind,
    // no single backend clock here: the granting client's
    a: Date.now(),
    i: randomBytes(9).toString('base64url'),
  });
  return { channel: grantChannel(prefix, request.name), message };
}

export class QuorumWatches {
  readonly #stream: QuorumEvents;
  readonly #subscribers: { readonly node: QuorumNode; readonly connection: Redis }[];
  readonly #quorum: number;
  readonly #prefix: string;
  readonly #timeout: number;

  constructor(nodes: readonly QuorumNode[], quorum: number, prefix: string, timeout: number) {
    this.#quorum = quorum;
    this.#prefix = prefix;
    this.#timeout = timeout;
    this.#stream = new QuorumEvents(quorum);
    this.#subscribers = nodes.map((node) => {
      // Not ioredis's autoResubscribe: its PSUBSCRIBE after a reconnect is never caught, and
      // rejects unhandled when the connection closes before the server confirms (connection.ts).
      const connection = node.client.duplicate({ enableOfflineQueue: true, autoResubscribe: false });
      connection.on('error', () => {}); // a node that is down fails its PSUBSCRIBE, counted below
      resubscribeOnReady(connection, () => this.#stream.active());
      this.#stream.attach(node.index, connection, prefix);
      return { node, connection };
    });
  }

  /** Resolves once a majority of nodes confirmed the subscription. */
  async watch(pattern: string, listener: (event: BackendEvent) => void): Promise<() => Promise<void>> {
    const patterns = QuorumEvents.patterns(this.#prefix, pattern);
    this.#stream.add(patterns, listener);
    const what = `watch "${pattern}"`;
    const outcomes = await Promise.all(
      this.#subscribers.map(({ node, connection }) =>
        withTimeout(connection.psubscribe(...patterns), this.#timeout, what).then(
          () => ({ node: node.address, outcome: 'granted' as const }),
          (error: unknown) => ({ node: node.address, outcome: 'unreachable' as const, detail: String(error) }),
        ),
      ),
    );
    const unwatch = async (): Promise<void> => {
      if (!this.#stream.remove(patterns, listener)) return;
      await Promise.allSettled(this.#subscribers.map(({ connection }) => connection.punsubscribe(...patterns)));
    };
    if (outcomes.filter((o) => o.outcome === 'granted').length < this.#quorum) {
      await unwatch();
      throw new QuorumError('read', what, this.#quorum, outcomes);
    }
    return unwatch;
  }

  close(): void {
    this.#stream.close();
  }
}

/**
 * Every namespace the server has open, by prefix. The one of the default prefix opens with the
 * server (so a backend that cannot be reached fails the start); others open when a connection
 * names them (HOLDFAST.PREFIX). Namespaces of an in-process memory store are its state and stay
 * open; those of a shared backend (Redis, …) close a while after their last user left.
 */
import { CommandError } from './errors.js';
import { Namespace } from './namespace.js';
import type { ClientRegistry } from './registry.js';
import type { BackendSource } from './source.js';

/** The namespace of connections that name none: `connect()`'s default prefix. */
export const DEFAULT_PREFIX = 'holdfast:';
/** How long an unused namespace of a shared backend stays open (a client may come back). */
const IDLE_CLOSE_MS = 30_000;

export class Namespaces {
  readonly source: BackendSource;
  readonly #registry: ClientRegistry;
  readonly #max: number;
  readonly #open = new Map<string, Promise<Namespace>>();
  readonly #idle = new Map<Namespace, NodeJS.Timeout>();
  #default: Namespace | null = null;
  #closed = false;

  constructor(source: BackendSource, registry: ClientRegistry, maxNamespaces: number) {
    this.source = source;
    this.#registry = registry;
    this.#max = maxNamespaces;
  }

  /** Opens the default namespace: a backend that cannot be reached fails the server's start. */
  async start(): Promise<void> {
    this.#default = await this.use(DEFAULT_PREFIX);
  }

  /** The namespace of the default prefix (after `start`). */
  get default(): Namespace {
    if (this.#default === null) throw new Error('the namespaces have not started');
    return this.#default;
  }

  /** One more user of an open namespace. */
  enter(namespace: Namespace): Namespace {
    namespace.users++;
    const timer = this.#idle.get(namespace);
    if (timer !== undefined) clearTimeout(timer);
    this.#idle.delete(namespace);
    return namespace;
  }

  /** The namespace of `prefix`, opened if need be, counted as used until `leave`. */
  async use(prefix: string): Promise<Namespace> {
    let opening = this.#open.get(prefix);
    if (opening === undefined) {
      if (this.#closed) throw new CommandError('SHUTDOWN', 'server stopping');
      if (this.#open.size >= this.#max) {
        throw new CommandError('LIMIT', `the server already serves ${this.#max} namespaces (prefixes)`);
      }
      opening = Namespace.open(this.source, prefix, this.#registry);
      this.#open.set(prefix, opening);
      void opening.catch(() => this.#open.delete(prefix));
    }
    return this.enter(await opening);
  }

  leave(namespace: Namespace): void {
    namespace.users--;
    if (namespace.users > 0 || this.source.inProcess || namespace.prefix === DEFAULT_PREFIX || this.#closed) return;
    const timer = setTimeout(() => {
      this.#idle.delete(namespace);
      if (namespace.users > 0) return;
      this.#open.delete(namespace.prefix);
      void namespace.close().catch(() => {});
    }, IDLE_CLOSE_MS);
    timer.unref();
    this.#idle.set(namespace, timer);
  }

  /** Ends every wait of the server and closes every backend. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#idle.values()) clearTimeout(timer);
    this.#idle.clear();
    const all = await Promise.allSettled(this.#open.values());
    this.#open.clear();
    await Promise.allSettled(all.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
  }
}

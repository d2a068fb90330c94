/**
 * Worlds on one holdfast server per test file (started in `before`, stopped in `after`), each
 * under its own random prefix so they never meet. Clients are built the way connect() builds
 * them, until connect() knows holdfast:// itself.
 */
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import type { BackendContext } from '../../src/backend.js';
import { createServerBackend } from '../../src/backends/server-client/index.js';
import { Holdfast } from '../../src/client.js';
import { ClientCore, newClientId } from '../../src/engine/core.js';
import { ClosedError } from '../../src/index.js';
import { type RunningServer, type ServerOptions, startServer } from '../../src/server/index.js';
import { realClock } from '../../src/util/clock.js';
import { sleep } from '../helpers/wait.js';
import type { WorldConnectOptions, WorldFactory } from '../helpers/world.js';

const DEFAULT_WAITER_TTL = 6000;

export interface ServerClientOptions {
  readonly prefix?: string;
  readonly waiterTtl?: number;
  readonly commandTimeout?: number;
}

/** A client of `url`, as `connect(url, options)` will make it. */
export async function connectServer(url: string, options: ServerClientOptions = {}): Promise<Holdfast> {
  let core: ClientCore | undefined;
  const context: BackendContext = {
    clientId: newClientId(),
    prefix: options.prefix ?? 'holdfast:',
    onWake: (token, grant) => core?.wake(token, grant),
    onResync: () => core?.resync(),
  };
  const timeout = options.commandTimeout;
  const backend = await createServerBackend(url, context, timeout === undefined ? {} : { commandTimeout: timeout });
  core = new ClientCore(backend, realClock, options.waiterTtl ?? DEFAULT_WAITER_TTL);
  return new Holdfast(core);
}

export function serverUrl(server: RunningServer, token?: string): string {
  return `holdfast://${token === undefined ? '' : `${encodeURIComponent(token)}@`}127.0.0.1:${server.port}`;
}

/**
 * Starts one server for the calling test file and returns it through a getter. `options` may be
 * a function, read when the server starts (after the hooks registered before, e.g. a Redis).
 */
export function useHoldfastServer(
  options: ServerOptions | (() => ServerOptions | Promise<ServerOptions>) = {},
): () => RunningServer {
  let server: RunningServer | undefined;
  before(async () => {
    server = await startServer({ port: 0, ...(typeof options === 'function' ? await options() : options) });
  });
  after(async () => {
    await server?.close();
  });
  return () => {
    if (!server) throw new Error('the holdfast server has not started (use it inside tests, not at load time)');
    return server;
  };
}

async function closeAll(clients: readonly Holdfast[]): Promise<void> {
  const results = await Promise.allSettled(clients.map((client) => client.close()));
  for (const result of results) {
    if (result.status === 'rejected' && !(result.reason instanceof ClosedError)) throw result.reason;
  }
}

export function serverWorld(server: () => RunningServer): WorldFactory {
  return async () => {
    const url = serverUrl(server());
    const prefix = `test-${randomBytes(6).toString('hex')}:`;
    const clients: Holdfast[] = [];
    return {
      // The World type names only memory and redis; this one, like redis, runs on real time.
      backend: 'redis',
      fake: false,
      async connect(options: WorldConnectOptions = {}) {
        const waiterTtl = options.waiterTtl;
        const client = await connectServer(url, waiterTtl === undefined ? { prefix } : { prefix, waiterTtl });
        clients.push(client);
        return client;
      },
      advance: (ms) => sleep(ms),
      close: () => closeAll(clients),
    };
  };
}

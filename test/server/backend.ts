/**
 * What a server under test keeps its state in: its own memory (the default), or a Redis that
 * the test file starts (`holdfast server --backend redis://…`). The protocol suites run once
 * per kind, unchanged.
 */
import { after, before } from 'node:test';
import type { ServerOptions } from '../../src/server/index.js';
import { type RedisProcess, startRedis } from '../helpers/redis-server.js';

export type ServerBackendKind = 'memory' | 'redis';

export interface ServerBackend {
  readonly kind: ServerBackendKind;
  /** startServer options naming the backend (none for memory). */
  options(): Pick<ServerOptions, 'backend'>;
  /** `holdfast server` arguments naming the backend. */
  args(): string[];
  /** The Redis URL (redis only). */
  redisUrl(): string;
  /** Resolves once the backend runs (root-level `before` hooks of one file may not wait for each other). */
  ready(): Promise<void>;
}

/** Registers the file's before/after hooks that run the backend (call it at the top level of a file). */
export function serverBackend(kind: ServerBackendKind): ServerBackend {
  let redis: RedisProcess | undefined;
  let starting: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    starting ??=
      kind === 'redis'
        ? startRedis().then((started) => {
            redis = started;
          })
        : Promise.resolve();
    return starting;
  };
  if (kind === 'redis') {
    before(ready);
    after(async () => {
      await redis?.stop();
    });
  }
  const redisUrl = (): string => {
    if (!redis) throw new Error(`no Redis: the backend is ${kind}, or it has not started yet`);
    return redis.url;
  };
  return {
    kind,
    options: () => (kind === 'redis' ? { backend: redisUrl() } : {}),
    args: () => (kind === 'redis' ? ['--backend', redisUrl()] : []),
    redisUrl,
    ready,
  };
}

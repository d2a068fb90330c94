/**
 * The bench's embedded holdfast server, run by holdfast-server.ts in a process of its own, so
 * that the server and the clients do not share an event loop (as redis-server does not):
 * `startServer` on a free loopback port, no HTTP API, state in memory. Sends `{ port }` over IPC
 * once listening, answers `{ id, cmd: 'cpu' }` with its CPU seconds so far (user + system, like
 * Redis's INFO cpu) and `{ id, cmd: 'heap' }` with its heap in use (bytes), and closes on SIGTERM or SIGINT, or when the parent goes away.
 */
import { startServer } from '../dist/server/index.js';

export interface ServerRequest {
  readonly id: number;
  readonly cmd: 'cpu' | 'heap';
}

/** `value`: CPU seconds for `cpu`, heap bytes in use for `heap`. */
export type ServerMessage = { readonly port: number } | { readonly id: number; readonly value: number };

// Default limits, except the scale measure's: 100,000 names held and 1,000 waiters by one client.
const server = await startServer({
  host: '127.0.0.1',
  port: 0,
  limits: { maxNamesPerClient: 200_000, maxWaitersPerKey: 2000, maxWaitersPerConnection: 2000 },
});

let stopping = false;
const stop = (code: number) => (): void => {
  if (stopping) return;
  stopping = true;
  void server.close().finally(() => process.exit(code));
};
process.once('SIGTERM', stop(0));
process.once('SIGINT', stop(0));
// The parent died (or let go of the channel): do not outlive it.
process.once('disconnect', stop(1));

process.on('message', (request: ServerRequest) => {
  let value: number;
  if (request.cmd === 'cpu') {
    const { user, system } = process.cpuUsage();
    value = (user + system) / 1e6;
  } else {
    // Started with --expose-gc: garbage is not what a held lock costs.
    (globalThis as { gc?: () => void }).gc?.();
    value = process.memoryUsage().heapUsed;
  }
  const reply: ServerMessage = { id: request.id, value };
  process.send?.(reply);
});

const ready: ServerMessage = { port: server.port };
process.send?.(ready);

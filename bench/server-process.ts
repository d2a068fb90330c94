/**
 * The bench's embedded holdfast server, run by holdfast-server.ts in a process of its own, so
 * that the server and the clients do not share an event loop (as redis-server does not):
 * `startServer` on a free loopback port, no HTTP API, state in memory. Sends `{ port }` over IPC
 * once listening, answers `{ id, cmd: 'cpu' }` with its CPU seconds so far (user + system, like
 * Redis's INFO cpu), and closes on SIGTERM or SIGINT, or when the parent goes away.
 */
import { startServer } from '../dist/server/index.js';

export interface ServerRequest {
  readonly id: number;
  readonly cmd: 'cpu';
}

export type ServerMessage = { readonly port: number } | { readonly id: number; readonly cpu: number };

const server = await startServer({ host: '127.0.0.1', port: 0 });

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
  if (request.cmd !== 'cpu') return;
  const { user, system } = process.cpuUsage();
  const reply: ServerMessage = { id: request.id, cpu: (user + system) / 1e6 };
  process.send?.(reply);
});

const ready: ServerMessage = { port: server.port };
process.send?.(ready);

/**
 * `holdfast server [--host H] [--port P] [--http-port P | --no-http] [--token T] [--backend URL]
 * [--limit NAME=VALUE]…`: runs the lock server (RESP, and the HTTP/JSON API) in front of a
 * backend in the foreground until SIGTERM or SIGINT, then shuts down gracefully and resolves
 * with exit code 0.
 */
import { parseArgs } from 'node:util';
import { HoldfastError } from '../errors.js';
import { DEFAULT_HTTP_PORT } from './http/listener.js';
import { describeLimits, LIMIT_USAGE, parseLimitFlags } from './limit-flags.js';
import type { ServerLimits } from './limits.js';
import { DEFAULT_HOST, DEFAULT_PORT, type RunningServer, startServer } from './server.js';
import { backendSource, shownUrl } from './source.js';

export const SERVER_USAGE = `usage: holdfast server [--host ${DEFAULT_HOST}] [--port ${DEFAULT_PORT}] [--http-port ${DEFAULT_HTTP_PORT} | --no-http] [--token SECRET] [--backend URL] [--limit NAME=VALUE]…
  --host       address to bind; anything but loopback requires a token
  --token      clients must present it (default $HOLDFAST_TOKEN); holdfast://SECRET@host:port,
               or Authorization: Bearer SECRET over HTTP
  --port       TCP port of the RESP protocol; 0 picks a free one
  --http-port  TCP port of the HTTP/JSON API (default: --port + 1; 0 when --port is 0)
  --no-http    serve no HTTP API
  --backend    where the state lives (default memory://, in this process): any connect() URL,
               e.g. redis://host:6379 (then several servers may front one Redis)
${LIMIT_USAGE}`;

export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

const consoleOutput: CliOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** What the server says about itself when it starts: where it is, and where its state is. */
export function banner(
  host: string,
  port: number,
  auth: boolean,
  httpPort: number | null = null,
  limits: Partial<ServerLimits> = {},
  backend: string | null = null,
): string {
  const at = (p: number): string => (host.includes(':') ? `[${host}]:${p}` : `${host}:${p}`);
  const where = at(port);
  return [
    `holdfast server listening on ${where} (holdfast://${auth ? 'TOKEN@' : ''}${where})`,
    ...(httpPort === null ? [] : [`  http: http://${at(httpPort)}/v1/ (HTTP/JSON API, for curl, PHP, Python, …)`]),
    `  auth: ${auth ? 'a token is required' : 'none (loopback only)'}`,
    ...(Object.keys(limits).length === 0 ? [] : [`  limits: ${describeLimits(limits)} (the others at their defaults)`]),
    ...(backend === null || /^memory:/i.test(backend)
      ? [
          '  state: in memory, on this single node: every lock, queue and rate limiter is lost when',
          '  the server stops. Fences keep increasing across restarts (they are seeded from the clock).',
          '  For durability, keep the state in Redis: holdfast server --backend redis://host:6379',
        ]
      : [`  state: in ${shownUrl(backend)}; this server keeps none, so several may front it.`]),
    '  Stop with Ctrl-C or SIGTERM.',
  ].join('\n');
}

/** Runs until a signal; resolves with the process exit code (the CLI sets it). */
export async function runServerCli(argv: readonly string[], output: CliOutput = consoleOutput): Promise<number> {
  let values: {
    host?: string | undefined;
    port?: string | undefined;
    'http-port'?: string | undefined;
    'no-http'?: boolean | undefined;
    token?: string | undefined;
    backend?: string | undefined;
    limit?: string[] | undefined;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'http-port': { type: 'string' },
        'no-http': { type: 'boolean' },
        token: { type: 'string' },
        backend: { type: 'string' },
        limit: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    output.err(`holdfast server: ${error instanceof Error ? error.message : String(error)}\n${SERVER_USAGE}`);
    return 2;
  }
  if (values.help) {
    output.out(SERVER_USAGE);
    return 0;
  }
  const port = portOption(values.port, DEFAULT_PORT);
  const nextPort = port === 0 ? 0 : (port ?? 0) + 1;
  const httpPort = values['no-http'] ? null : portOption(values['http-port'], nextPort);
  if (port === undefined || httpPort === undefined || (httpPort !== null && httpPort > 65_535)) {
    output.err(`holdfast server: --port and --http-port must be 0-65535\n${SERVER_USAGE}`);
    return 2;
  }
  let limits: Partial<ServerLimits>;
  try {
    limits = parseLimitFlags(values.limit ?? []);
    // A URL no backend takes is a usage error too, found before anything listens.
    if (values.backend !== undefined) backendSource(values.backend);
  } catch (error) {
    output.err(`holdfast server: ${error instanceof Error ? error.message : String(error)}\n${SERVER_USAGE}`);
    return 2;
  }
  const token = values.token ?? (process.env.HOLDFAST_TOKEN || undefined);
  let server: RunningServer;
  try {
    server = await startServer({
      host: values.host ?? DEFAULT_HOST,
      port,
      ...(httpPort === null ? {} : { httpPort }),
      ...(token === undefined ? {} : { token }),
      limits,
      ...(values.backend === undefined ? {} : { backend: values.backend }),
    });
  } catch (error) {
    output.err(`holdfast server: ${error instanceof HoldfastError ? error.message : String(error)}`);
    return 1;
  }
  output.out(banner(server.address, server.port, token !== undefined, server.httpPort, limits, values.backend ?? null));
  await untilSignal();
  output.out('holdfast server: stopping (clients are told, then disconnected)');
  await server.close();
  output.out('holdfast server: stopped');
  return 0;
}

/** A port number given as text, `fallback` when absent; undefined when it is not one. */
function portOption(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  const port = Number(text);
  return /^\d{1,5}$/.test(text) && port <= 65_535 ? port : undefined;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

/**
 * `holdfast dashboard [URL] [--port 7701] [--host H] [--token T] [--allow-release]`: serves the
 * live dashboard until SIGINT or SIGTERM. Read-only unless `--allow-release`; loopback unless a
 * token is given. Every force-release is logged on stderr with its reason.
 */
import { DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT, startDashboard } from '../../dashboard/server.js';
import { isLoopback } from '../../server/auth.js';
import { COMMON_HELP, parse, positionalsAtMost, text, UsageError } from '../args.js';
import { type Command, help, READ_ONLY, withClient } from '../command.js';
import { redact } from '../output.js';

const USAGE = `usage: holdfast dashboard [URL] [--port ${DEFAULT_DASHBOARD_PORT}] [--host ${DEFAULT_DASHBOARD_HOST}] [--token T] [--allow-release]
  A live web page of the locks (holders with fence, time left and owner; waiters in order),
  the rate limiters seen in the event stream, and the events, until Ctrl-C or SIGTERM.
  URL              the backend (default --url, $HOLDFAST_URL, else holdfast://127.0.0.1:7700)
  --port P         port of the page; 0 picks a free one
  --host H         address to bind; anything but loopback requires a token
  --token T        pages and API calls must present it (default $HOLDFAST_DASHBOARD_TOKEN); the
                   printed address carries it after # (never sent in a request line)
  --allow-release  offer force-release (with a confirmation and a reason); read-only otherwise
${COMMON_HELP}`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  token: { type: 'string' },
  'allow-release': { type: 'boolean' },
} as const;

export const dashboard: Command = {
  usage: USAGE,
  async run(argv) {
    const { values, positionals, common } = parse(argv, OPTIONS, USAGE);
    if (common.help) return help(USAGE);
    positionalsAtMost(positionals, 1, USAGE);
    const url = positionals[0] ?? common.url;
    const port = portOption(text(values, 'port'));
    const host = text(values, 'host') ?? DEFAULT_DASHBOARD_HOST;
    const token = text(values, 'token') ?? (process.env.HOLDFAST_DASHBOARD_TOKEN || undefined);
    if (!isLoopback(host) && token === undefined) {
      throw new UsageError(`serving on ${host} needs --token: only loopback may go without`, USAGE);
    }
    const allowRelease = values['allow-release'] === true;
    // Reading and repairing hold no lock (READ_ONLY); its own reads are not the application's telemetry.
    await withClient(
      { ...common, url },
      async (hf) => {
        const served = await startDashboard({
          hf,
          host,
          port,
          allowRelease,
          ...(token === undefined ? {} : { token }),
          onRelease: ({ name, released, reason, from }) =>
            process.stderr.write(
              `holdfast dashboard: force-released ${JSON.stringify(name)} (${released} holder(s)) for ${from}: ${reason}\n`,
            ),
        });
        const open = token === undefined ? served.url : `${served.url}#token=${encodeURIComponent(token)}`;
        process.stdout.write(
          `holdfast dashboard on ${open}\n  backend: ${redact(url)}; ${allowRelease ? 'force-release enabled' : 'read-only'}\n  Stop with Ctrl-C or SIGTERM.\n`,
        );
        await untilSignal();
        await served.close();
      },
      { ...READ_ONLY, telemetry: false },
    );
    return 0;
  },
};

function portOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_DASHBOARD_PORT;
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65_535) throw new UsageError(`--port must be 0-65535, got "${value}"`, USAGE);
  return port;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop).off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop).on('SIGINT', stop);
  });
}

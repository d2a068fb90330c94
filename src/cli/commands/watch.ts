/** `holdfast watch [pattern]`: the live event stream, one line per event, until SIGINT/SIGTERM. */
import type { LockEvent } from '../../index.js';
import { COMMON_HELP, nameArg, parse, positionalsAtMost } from '../args.js';
import { type Command, help, READ_ONLY, withClient } from '../command.js';
import { type Colour, type Io, makeIo, redact, toJson } from '../output.js';

const USAGE = `usage: holdfast watch [pattern] [--url URL] [--json]
  Prints every lock event on names matching the glob (default *) as it happens, one line each
  (--json: JSON lines), until Ctrl-C or SIGTERM. "watching …" on stderr says the stream is live.
${COMMON_HELP}`;

const COLOURS: Partial<Record<LockEvent['type'], Colour>> = {
  acquired: 'green',
  handoff: 'green',
  released: 'dim',
  expired: 'yellow',
  lost: 'red',
  waiting: 'cyan',
  left: 'dim',
  'rate-limited': 'yellow',
};

export const watch: Command = {
  usage: USAGE,
  async run(argv) {
    const { positionals, common } = parse(argv, {}, USAGE);
    if (common.help) return help(USAGE);
    positionalsAtMost(positionals, 1, USAGE);
    const pattern = nameArg(positionals[0] ?? '*', USAGE, 'pattern');
    const io = makeIo(common);
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    try {
      await withClient(
        common,
        async (hf) => {
          const stream = hf.watch(pattern, { signal: stop.signal });
          await stream.ready;
          io.err(`holdfast watch: watching ${pattern} on ${redact(common.url)} (Ctrl-C to stop)`);
          for await (const event of stream) io.out(io.json ? toJson(event) : line(io, event));
        },
        READ_ONLY,
      );
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
    return 0;
  },
};

function line(io: Io, e: LockEvent): string {
  const parts = [
    io.paint('dim', new Date(e.at).toISOString()),
    io.paint(COLOURS[e.type] ?? 'bold', e.type.padEnd(12)),
    e.kind.padEnd(12),
    io.paint('bold', e.name),
  ];
  if (e.fence !== null) parts.push(`fence ${e.fence}`);
  if (e.permits !== 1) parts.push(`permits ${e.permits}`);
  if (e.expiresIn !== null) parts.push(`ttl ${e.expiresIn} ms`);
  if (e.owner !== null) parts.push(`owner ${toJson(e.owner)}`);
  return parts.join('  ');
}

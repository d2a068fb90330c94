/** `holdfast release NAME`: the repair tool for a stuck lock. */
import { COMMON_HELP, oneName, parse } from '../args.js';
import { type Command, help, READ_ONLY, withClient } from '../command.js';
import { makeIo, toJson } from '../output.js';

const USAGE = `usage: holdfast release NAME [--url URL] [--json]
  Force-releases NAME whoever holds it: its holders learn at their next renewal that their
  lease is lost (their lease.signal aborts), and the queue is served.
${COMMON_HELP}`;

export const release: Command = {
  usage: USAGE,
  async run(argv) {
    const { positionals, common } = parse(argv, {}, USAGE);
    if (common.help) return help(USAGE);
    const name = oneName(positionals, USAGE);
    const io = makeIo(common);
    const released = await withClient(common, (hf) => hf.forceRelease(name), READ_ONLY);
    if (io.json) io.out(toJson({ name, released }));
    else io.out(`released ${released} holder${released === 1 ? '' : 's'} of ${name}`);
    return 0;
  },
};

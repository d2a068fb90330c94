/** `holdfast ls [pattern]`: names held or waited for. */
import { COMMON_HELP, nameArg, parse, positionalsAtMost } from '../args.js';
import { type Command, help, READ_ONLY, withClient } from '../command.js';
import { makeIo, toJson } from '../output.js';

const USAGE = `usage: holdfast ls [pattern] [--url URL] [--json]
  Names that are held or waited for and match the glob (*, ?; default *), one per line
  (--json: one array).
${COMMON_HELP}`;

export const ls: Command = {
  usage: USAGE,
  async run(argv) {
    const { positionals, common } = parse(argv, {}, USAGE);
    if (common.help) return help(USAGE);
    positionalsAtMost(positionals, 1, USAGE);
    const io = makeIo(common);
    const pattern = nameArg(positionals[0] ?? '*', USAGE, 'pattern');
    const names = await withClient(common, (hf) => hf.list(pattern), READ_ONLY);
    if (io.json) io.out(toJson(names));
    else for (const name of names) io.out(name);
    return 0;
  },
};

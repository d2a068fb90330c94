/** `holdfast inspect NAME`: who holds and who waits, in order. */
import type { LockState } from '../../index.js';
import { COMMON_HELP, oneName, parse } from '../args.js';
import { type Command, help, READ_ONLY, withClient } from '../command.js';
import { duration, type Io, makeIo, toJson } from '../output.js';

const USAGE = `usage: holdfast inspect NAME [--url URL] [--json]
  Holders of NAME (fence, permits, time left, owner) and its waiters in queue order;
  "free" when nobody holds or waits (--json: the state object, or null).
${COMMON_HELP}`;

export const inspect: Command = {
  usage: USAGE,
  async run(argv) {
    const { positionals, common } = parse(argv, {}, USAGE);
    if (common.help) return help(USAGE);
    const name = oneName(positionals, USAGE);
    const io = makeIo(common);
    const state = await withClient(common, (hf) => hf.inspect(name), READ_ONLY);
    if (io.json) io.out(toJson(state));
    else if (state === null) io.out(`${name}: ${io.paint('green', 'free')}`);
    else show(io, state);
    return 0;
  },
};

function show(io: Io, state: LockState): void {
  const used = state.holders.reduce((n, h) => n + h.permits, 0);
  const pool = state.limit === null ? '' : `, ${used}/${state.limit} permits in use`;
  io.out(`${io.paint('bold', state.name)}: ${state.kind ?? 'lock'}${pool}`);
  for (const h of state.holders) {
    const owner = ownerText(h.owner);
    io.out(
      `  ${io.paint('green', 'holder')}  fence ${h.fence}  permits ${h.permits}  expires in ${duration(h.expiresIn)}${owner}`,
    );
  }
  state.waiters.forEach((w, i) => {
    const owner = ownerText(w.owner);
    io.out(`  ${io.paint('cyan', `waiter ${i + 1}`)}  permits ${w.permits}${owner}`);
  });
}

/** The owner a holder or waiter attached, as JSON text after two spaces; '' when none. */
function ownerText(owner: unknown): string {
  if (owner === null || owner === undefined || owner === '') return '';
  return `  owner ${typeof owner === 'string' ? owner : toJson(owner)}`;
}

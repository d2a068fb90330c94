/**
 * `holdfast lock NAME [options] -- CMD ARGS…`: run a command while holding a lock, as
 * `etcdctl lock` and `flock(1)` do. The seed 004 cron line:
 *   * * * * * holdfast lock nightly-sync --wait 0 -- ./sync.sh
 */
import { constants, hostname } from 'node:os';
import { type Holdfast, type Json, type Lease, LockTimeoutError } from '../../index.js';
import { COMMON_HELP, countOption, msOption, nameArg, parse, text, UsageError } from '../args.js';
import { type Command, help, withClient } from '../command.js';
import { type Io, makeIo, toJson } from '../output.js';
import { supervise } from '../supervise.js';

/** Not acquired: held by others (EX_TEMPFAIL, as `flock -E` is commonly set). CMD did not run. */
export const EXIT_BUSY = 75;
/** The lease was lost while CMD ran, and CMD was stopped. */
export const EXIT_LOST = 74;
const DEFAULT_GRACE = 5000;

const USAGE = `usage: holdfast lock NAME [--ttl MS] [--wait MS] [--limit M [--permits N]] [--grace MS] -- CMD [ARGS…]
  Runs CMD while holding NAME (a mutex; with --limit, N permits of a semaphore of M), renewing
  the lease while CMD runs, and releases it when CMD ends. CMD gets HOLDFAST_NAME and
  HOLDFAST_FENCE in its environment; signals to holdfast (INT, TERM, HUP, QUIT) go to CMD.
  --ttl MS        lease length (default 10000), renewed every third of it
  --wait MS       give up after MS if others hold it (default: wait as long as it takes);
                  --wait 0 tries once, like flock -n
  --limit M       a semaphore of M permits instead of a mutex
  --permits N     permits this run takes (default 1; needs --limit)
  --grace MS      when the lease is lost: SIGTERM to CMD, SIGKILL after MS (default ${DEFAULT_GRACE})
  --allow-eviction  hold even on a Redis whose maxmemory-policy may evict lock keys
exit status: CMD's own (128+N when a signal N ended it); ${EXIT_BUSY}: held by others, CMD not run;
  ${EXIT_LOST}: the lease was lost while CMD ran and CMD was stopped; 1: backend unreachable or
  failed; 2: usage; 126/127: CMD not executable / not found
${COMMON_HELP}`;

const OPTIONS = {
  ttl: { type: 'string' },
  wait: { type: 'string' },
  limit: { type: 'string' },
  permits: { type: 'string' },
  grace: { type: 'string' },
  'allow-eviction': { type: 'boolean' },
} as const;

interface Plan {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly ttl: number | undefined;
  readonly wait: number | undefined;
  readonly limit: number | undefined;
  readonly permits: number;
  readonly grace: number;
}

export const lock: Command = {
  usage: USAGE,
  async run(argv) {
    const split = argv.indexOf('--');
    const own = split < 0 ? argv : argv.slice(0, split);
    const { values, positionals, common } = parse(own, OPTIONS, USAGE);
    if (common.help) return help(USAGE);
    const plan = planOf(values, split < 0 ? positionals : [...positionals, ...argv.slice(split + 1)]);
    const io = makeIo(common);
    const allowEviction = values['allow-eviction'] === true;
    return withClient(common, (hf) => holdAndRun(hf, plan, io), { allowEviction });
  },
};

function planOf(values: Readonly<Record<string, string | boolean | undefined>>, positionals: readonly string[]): Plan {
  const [name, command, ...args] = positionals;
  if (name === undefined) throw new UsageError('a NAME is needed', USAGE);
  nameArg(name, USAGE);
  if (command === undefined) throw new UsageError('a command to run is needed after --', USAGE);
  const limit = countOption(text(values, 'limit'), 'limit', USAGE);
  const permits = countOption(text(values, 'permits'), 'permits', USAGE);
  if (permits !== undefined && limit === undefined) throw new UsageError('--permits needs --limit', USAGE);
  if (permits !== undefined && limit !== undefined && permits > limit) {
    throw new UsageError(`--permits ${permits} is more than --limit ${limit}`, USAGE);
  }
  return {
    name,
    command,
    args,
    ttl: msOption(text(values, 'ttl'), 'ttl', USAGE),
    wait: msOption(text(values, 'wait'), 'wait', USAGE, 0),
    limit,
    permits: permits ?? 1,
    grace: msOption(text(values, 'grace'), 'grace', USAGE) ?? DEFAULT_GRACE,
  };
}

async function holdAndRun(hf: Holdfast, plan: Plan, io: Io): Promise<number> {
  const owner: Json = {
    host: hostname(),
    pid: process.pid,
    // The program only: its arguments may carry secrets, and anyone who can read the backend sees owners.
    command: plan.command.slice(0, 200),
  };
  const lease = await acquire(hf, plan, owner);
  if (lease === null) {
    report(io, { event: 'busy', name: plan.name }, `${plan.name} is held by another; not running ${plan.command}`);
    return EXIT_BUSY;
  }
  if (typeof lease === 'string') return 128 + (constants.signals[lease] ?? 0);
  const outcome = await supervise({
    command: plan.command,
    args: plan.args,
    lease,
    grace: plan.grace,
    onLost: (reason) =>
      report(io, { event: 'lost', name: plan.name, reason }, `${reason}; stopping ${plan.command}`, true),
  });
  if (outcome.kind === 'lost') return EXIT_LOST;
  try {
    await lease.release();
  } catch (error) {
    // CMD is done; the lock frees itself at its TTL. Say so, but report CMD's status.
    const why = error instanceof Error ? error.message : String(error);
    report(io, { event: 'release-failed', name: plan.name, reason: why }, `release failed: ${why}`, true);
  }
  if (outcome.kind === 'not-started') {
    report(io, { event: 'not-started', name: plan.name, reason: outcome.reason }, outcome.reason, true);
  }
  return outcome.status;
}

/**
 * The lease; null when others hold it (now, with --wait 0; or for all of --wait); the signal's
 * name when SIGINT or SIGTERM gave up the wait (the request leaves the queue).
 */
async function acquire(hf: Holdfast, plan: Plan, owner: Json): Promise<Lease | null | NodeJS.Signals> {
  const options = { ...(plan.ttl === undefined ? {} : { ttl: plan.ttl }), owner };
  const primitive =
    plan.limit === undefined
      ? hf.mutex(plan.name, options)
      : hf.semaphore(plan.name, { ...options, permits: plan.limit });
  const permits = plan.limit === undefined ? {} : { permits: plan.permits };
  if (plan.wait === 0) return primitive.tryAcquire(permits);
  const stop = new AbortController();
  let interrupted: NodeJS.Signals | null = null;
  const giveUp = (signal: NodeJS.Signals): void => {
    interrupted = signal;
    stop.abort();
  };
  process.once('SIGINT', giveUp).once('SIGTERM', giveUp);
  try {
    const wait = plan.wait === undefined ? {} : { wait: plan.wait };
    return await primitive.acquire({ ...permits, ...wait, signal: stop.signal });
  } catch (error) {
    if (interrupted !== null) return interrupted;
    if (error instanceof LockTimeoutError) return null;
    throw error;
  } finally {
    process.off('SIGINT', giveUp).off('SIGTERM', giveUp);
  }
}

/**
 * holdfast's own words, on stderr (stdout is CMD's): JSON lines with --json. A busy lock is
 * not an error for a cron job (flock -n is silent too), so that line is only for a person
 * watching a terminal.
 */
function report(io: Io, json: Record<string, Json>, line: string, always = false): void {
  if (io.json) io.err(toJson(json));
  else if (always || io.interactive) io.err(`holdfast lock: ${line}`);
}

/**
 * Redis's own time for what a hand-off asks of it, sent the way the hand-off measure sends it
 * (handoff.ts): after an idle spell drawn from its release delays. holdfast's
 * release-and-hand-off script (the holder leaves, the one waiter is granted and woken, in one
 * script) against the floor's PUBLISH to one subscriber. Read from SLOWLOG (slowlog.ts).
 *
 * Sent after an idle spell, a script runs several times slower than in a loop: its code and
 * data (Redis's command table and dispatch, the Lua interpreter, the keys) have left the CPU's
 * caches, and each redis.call, argument and Lua library function the script touches is fetched
 * again. A PUBLISH is one small command. The difference lies on the hand-off's path (Redis
 * writes the wake-up only once the script is done), so the bench prints it beside the target:
 * the floor plus it is what a one-script hand-off could reach here.
 *
 * The same for the leanest hand-off script we could write that keeps holdfast's contract
 * (lean-lock/handoff.lua): what a one-script hand-off of that contract could reach here.
 */
import { connect, type Holdfast } from 'holdfast';
import { Redis } from 'ioredis';
import { waitFor } from '../test/helpers/wait.js';
import { LEAN_ACQUIRE, LEAN_CHANNEL, LEAN_HANDOFF, LEAN_KEYS, LEAN_RELEASE, runLean } from './floors.js';
import { logEveryCommand, slowlogEntries } from './slowlog.js';
import { percentile, sleep, uniform } from './stats.js';

export interface HandoffScriptTimes {
  /** µs (p50) of Redis time of holdfast's release-and-hand-off script, after an idle spell. */
  readonly handoff: number;
  /** µs (p50) of Redis time of a PUBLISH to one subscriber, after an idle spell. */
  readonly publish: number;
  /** µs (p50) of Redis time of the lean lock's hand-off (lean-lock/handoff.lua), after an idle spell. */
  readonly lean: number;
}

const REPS = 30;
const PREFIX = 'bench:cold:';
const CHANNEL = `${PREFIX}floor`;
/** The lean hand-off wakes `<LEAN_WAKE><client>`, as holdfast's scripts wake `<prefix>wake:<clientId>`. */
const LEAN_WAKE = 'bench:lean:wake:';
const LEAN_CLIENT = 'lean-waiter';

/** `idle`: the range of ms each command waits before it is sent, as the measure's releases do. */
export async function handoffScriptTimes(
  url: string,
  idle: { readonly min: number; readonly max: number },
): Promise<HandoffScriptTimes> {
  const admin = new Redis(url);
  const subscriber = new Redis(url);
  const clients: Holdfast[] = [];
  const restoreThreshold = await logEveryCommand(admin);
  try {
    await subscriber.subscribe(CHANNEL, LEAN_WAKE + LEAN_CLIENT);
    // Loaded before it is timed, as holdfast's scripts are by the first acquire.
    await admin.script('LOAD', LEAN_HANDOFF.source);
    const holder = await connect(url, { prefix: PREFIX });
    clients.push(holder);
    const waiter = await connect(url, { prefix: PREFIX });
    clients.push(waiter);
    const handoff: number[] = [];
    const publish: number[] = [];
    const lean: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const lease = await holder.mutex('probe').acquire();
      const waiting = waiter.mutex('probe').acquire();
      // The release must find the waiter queued, to hand it the name.
      await waitFor(async () => ((await holder.inspect(lease.name))?.waiters.length ?? 0) > 0, {
        what: "the probe's waiter to queue",
      });
      await admin.slowlog('RESET');
      await sleep(uniform(idle.min, idle.max));
      await lease.release();
      handoff.push(await timeOf(admin, (args) => args.includes(lease.token)));
      await (await waiting).release();
      await admin.slowlog('RESET');
      await sleep(uniform(idle.min, idle.max));
      await admin.publish(CHANNEL, 'go');
      publish.push(await timeOf(admin, (args) => args[0]?.toLowerCase() === 'publish'));
      lean.push(await leanHandoffTime(admin, i, idle));
    }
    return { handoff: percentile(handoff, 50), publish: percentile(publish, 50), lean: percentile(lean, 50) };
  } finally {
    await restoreThreshold().catch(() => {});
    await Promise.all(clients.map((client) => client.close()));
    subscriber.disconnect();
    admin.disconnect();
  }
}

/**
 * One hand-off of the lean lock: a holder takes the name, one waiter queues (its entry and record
 * written directly: only the hand-off is timed), and after the idle spell the holder's release
 * hands the name over. The waiter then releases it.
 */
async function leanHandoffTime(
  admin: Redis,
  i: number,
  idle: { readonly min: number; readonly max: number },
): Promise<number> {
  const holder = `lean-holder-${i}`;
  const waiter = `lean-waiter-${i}`;
  const granted = (await runLean(admin, LEAN_ACQUIRE, LEAN_CHANNEL, holder, '30000', 'bench')) as unknown[];
  if (granted[0] !== 1) throw new Error('lean hand-off probe: the holder was not granted');
  const [seconds = '0'] = await admin.time();
  const waiterUntil = Number(seconds) * 1000 + 60_000;
  const [queue, data] = LEAN_KEYS;
  await admin
    .multi()
    .zadd(queue, i, waiter)
    .hset(data, `w:${waiter}`, `${waiterUntil}|${LEAN_CLIENT}|10000|bench`)
    .exec();
  await admin.slowlog('RESET');
  await sleep(uniform(idle.min, idle.max));
  const reply = await runLean(admin, LEAN_HANDOFF, LEAN_CHANNEL, holder, LEAN_WAKE);
  if (reply !== 2) throw new Error(`lean hand-off probe: the release did not hand off (${String(reply)})`);
  const micros = await timeOf(admin, (args) => args.includes(holder));
  if ((await runLean(admin, LEAN_RELEASE, LEAN_CHANNEL, waiter)) !== 1) {
    throw new Error('lean hand-off probe: the waiter did not hold');
  }
  await admin.slowlog('RESET');
  return micros;
}

/** µs of the one SLOWLOG entry since the last RESET that `matches` (its command and arguments). */
async function timeOf(admin: Redis, matches: (args: string[]) => boolean): Promise<number> {
  const entries = await slowlogEntries(admin, 16);
  const entry = entries.find((candidate) => matches(candidate[3].map(String)));
  if (!entry) throw new Error('hand-off script probe: the command is not in SLOWLOG');
  return Number(entry[2]);
}

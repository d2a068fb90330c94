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
 */
import { connect, type Holdfast } from 'holdfast';
import { Redis } from 'ioredis';
import { waitFor } from '../test/helpers/wait.js';
import { logEveryCommand, slowlogEntries } from './slowlog.js';
import { percentile, sleep, uniform } from './stats.js';

export interface HandoffScriptTimes {
  /** µs (p50) of Redis time of holdfast's release-and-hand-off script, after an idle spell. */
  readonly handoff: number;
  /** µs (p50) of Redis time of a PUBLISH to one subscriber, after an idle spell. */
  readonly publish: number;
}

const REPS = 30;
const PREFIX = 'bench:cold:';
const CHANNEL = `${PREFIX}floor`;

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
    await subscriber.subscribe(CHANNEL);
    const holder = await connect(url, { prefix: PREFIX });
    clients.push(holder);
    const waiter = await connect(url, { prefix: PREFIX });
    clients.push(waiter);
    const handoff: number[] = [];
    const publish: number[] = [];
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
    }
    return { handoff: percentile(handoff, 50), publish: percentile(publish, 50) };
  } finally {
    await restoreThreshold().catch(() => {});
    await Promise.all(clients.map((client) => client.close()));
    subscriber.disconnect();
    admin.disconnect();
  }
}

/** µs of the one SLOWLOG entry since the last RESET that `matches` (its command and arguments). */
async function timeOf(admin: Redis, matches: (args: string[]) => boolean): Promise<number> {
  const entries = await slowlogEntries(admin, 16);
  const entry = entries.find((candidate) => matches(candidate[3].map(String)));
  if (!entry) throw new Error('hand-off script probe: the command is not in SLOWLOG');
  return Number(entry[2]);
}

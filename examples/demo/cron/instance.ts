/**
 * One instance of the service of seed 004, as its own process (a container, in the seed): it runs
 * the every-second cron `nightly-sync` with `schedule()`. At each fire time exactly one instance
 * wins the tick's lock and runs the job; the others skip it and say so.
 */
import { type ScheduledJob, schedule } from '../../../src/index.js';
import { connectTarget, type RoleHandle, type RoleIO } from '../role.js';

/** The job: a few calls to other services, stopped if the lease is lost. */
async function sync(signal: AbortSignal): Promise<void> {
  for (const service of ['jokes', 'cat-facts', 'users']) {
    signal.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, 40 + service.length));
  }
}

export async function instance({ target, send }: RoleIO<unknown>): Promise<RoleHandle> {
  const hf = await connectTarget(target);
  let job: ScheduledJob | undefined;
  return {
    onMessage: (message) => {
      if (message.type !== 'start') return;
      job = schedule(
        hf,
        'nightly-sync',
        '* * * * * *',
        async (lease, fireTime) => {
          // This instance won the tick's lock `nightly-sync@<fire time>`; lease.fence proves it.
          send({ type: 'tick', fireTime: fireTime.toISOString(), outcome: 'ran', fence: String(lease.fence) });
          await sync(lease.signal);
        },
        {
          ttl: 10_000,
          onSkip: (fireTime, reason) =>
            send({ type: 'tick', fireTime: fireTime.toISOString(), outcome: 'skipped', reason }),
          onError: (error, fireTime) =>
            send({ type: 'job-error', fireTime: fireTime.toISOString(), message: String(error) }),
        },
      );
    },
    stop: async () => {
      await job?.stop();
      await hf.close();
    },
  };
}

/**
 * One contact-center agent (seeds 000/001), in a process of its own. Its capacity is the
 * semaphore `agent:<id>:slots`: each task it handles holds one permit. `agent:<id>:busy` (a
 * mutex) is held while it has any task in hand. It logs out by taking its own lock
 * `agent:<id>:away` and keeps it until the end; a task offered after that is declined, and the
 * manager re-queues it.
 */
import type { Lease } from '../../../src/index.js';
import { connectTarget, type RoleHandle, type RoleIO } from '../role.js';
import type { AgentConfig, TaskOffer } from './types.js';

export async function agent({ target, config, send }: RoleIO<AgentConfig>): Promise<RoleHandle> {
  const { id, capacity, logoutAfter } = config;
  const hf = await connectTarget(target);
  const slots = hf.semaphore(`agent:${id}:slots`, { permits: capacity, ttl: 5000 });
  const busy = hf.mutex(`agent:${id}:busy`, { ttl: 5000 });
  const away = hf.mutex(`agent:${id}:away`, { ttl: 5000 });

  let inHand = 0;
  let handled = 0;
  let loggedOut = false;
  let busyLease: Lease | null = null;
  // Taking and returning tasks change several locks: one change at a time, in order.
  let changes: Promise<unknown> = Promise.resolve();
  function serially<T>(change: () => Promise<T>): Promise<T> {
    const done = changes.then(change);
    changes = done.catch(() => {});
    return done;
  }

  async function take(task: TaskOffer): Promise<void> {
    const slot = await serially(async () => {
      if (loggedOut) {
        send({ type: 'declined', task: task.id, reason: 'logged out' });
        return null;
      }
      const lease = await slots.tryAcquire({ owner: { task: task.id } });
      if (lease === null) {
        send({ type: 'declined', task: task.id, reason: 'no free slot' });
        return null;
      }
      if (inHand++ === 0) busyLease = await busy.acquire({ wait: 2000 });
      send({ type: 'started', task: task.id, inHand, fence: String(lease.fence) });
      return lease;
    });
    if (slot === null) return;
    // The conversation itself; it stops if the slot's lease is lost.
    await new Promise((resolve) => setTimeout(resolve, task.duration));
    slot.signal.throwIfAborted();
    await serially(async () => {
      handled++;
      send({ type: 'finished', task: task.id, inHand: inHand - 1 });
      if (handled === logoutAfter) {
        // Logging out, as this conversation ends: the away lock is taken before the slot is
        // returned, so the manager never sees a free slot here. Tasks in hand are finished.
        loggedOut = true;
        const lease = await away.acquire({ wait: 2000, owner: { reason: 'break' } });
        send({ type: 'away', fence: String(lease.fence), left: inHand - 1 });
      }
      await slot.release();
      if (--inHand === 0) {
        await busyLease?.release();
        busyLease = null;
      }
    });
  }

  return {
    onMessage: (message) => {
      if (message.type === 'task') return take(message.task as TaskOffer);
    },
    // The last task's releases may still be on their way: let them finish, then close the client,
    // which releases what it still holds (the away lock of an agent who logged out).
    stop: async () => {
      await changes;
      await hf.close();
    },
  };
}

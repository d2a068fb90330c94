/**
 * The subscriber connection after a reconnect (src/backends/redis/connection.ts): the wake
 * channel and the watches' patterns are subscribed again, and a connection closed right as it
 * reconnects leaves no unhandled rejection behind. ioredis's own autoResubscribe sent
 * SUBSCRIBE/PSUBSCRIBE without catching them: closing in that moment rejected them unhandled
 * with "Connection is closed." (seen in the quorum fault tests, whose nodes restart).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { BackendEvent } from '../src/backend.js';
import { openSubscriber } from '../src/backends/redis/connection.js';
import { eventPrefix, nameKeys } from '../src/backends/redis/keys.js';
import { Watches } from '../src/backends/redis/watches.js';
import { connect, LeaseLostError } from '../src/index.js';
import { untilQueued } from './helpers/queue.js';
import { aborted, waitFor, withTimeout } from './helpers/wait.js';
import { useRedisServer } from './helpers/world.js';

const server = useRedisServer();
const TIMEOUT = 5000;
const opened: Redis[] = [];
afterEach(() => {
  for (const connection of opened.splice(0)) connection.disconnect();
});

async function subscribed(prefix: string) {
  const client = new Redis(server().url);
  opened.push(client);
  const channel = `${prefix}wake`;
  const messages: string[] = [];
  let resyncs = 0;
  const subscriber = await openSubscriber(
    client,
    [channel],
    (message) => messages.push(message),
    () => {
      resyncs += 1;
    },
    TIMEOUT,
  );
  opened.push(subscriber);
  const watches = new Watches(subscriber, prefix, TIMEOUT);
  const events: BackendEvent[] = [];
  await watches.add('*', (event) => events.push(event));
  return { client, channel, subscriber, messages, events, resyncs: () => resyncs };
}

const event = (name: string): string =>
  JSON.stringify({ t: 'released', n: name, k: 'mutex', f: '7', p: 1, o: '', a: Date.now(), e: -1 });

describe('redis subscriber reconnect', () => {
  it('subscribes the wake channel and the watch patterns again after a reconnect', async () => {
    const prefix = `rs-${randomBytes(4).toString('hex')}:`;
    const s = await subscribed(prefix);
    s.subscriber.disconnect(true);
    await waitFor(() => s.resyncs() === 1, { timeout: TIMEOUT, what: 'the wake channel re-subscribed' });
    await s.client.publish(s.channel, 'hello');
    await waitFor(() => s.messages.includes('hello'), { timeout: TIMEOUT, what: 'a wake-up after the reconnect' });
    // the pattern's PSUBSCRIBE was sent before the wake channel's SUBSCRIBE was confirmed
    await waitFor(async () => (await s.client.publish(`${eventPrefix(prefix)}m`, event('m'))) > 0, {
      timeout: TIMEOUT,
      what: 'the watch pattern re-subscribed',
    });
    await waitFor(() => s.events.some((e) => e.name === 'm'), {
      timeout: TIMEOUT,
      what: 'an event after the reconnect',
    });
  });

  it('closing right as it reconnects leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', record);
    try {
      const s = await subscribed(`rs-${randomBytes(4).toString('hex')}:`);
      // 'ready' is emitted on the tick after the re-subscriptions were written: closing then,
      // with the socket destroyed so no reply is read, closes the connection between a
      // reconnect and the server's confirmation (which quit() timing out does under load).
      s.subscriber.once('ready', () => {
        s.subscriber.disconnect();
        s.subscriber.stream.destroy();
      });
      s.subscriber.disconnect(true);
      await once(s.subscriber, 'end');
      // an unhandled rejection is reported once the microtasks after the close have run
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(
        unhandled.map((reason) => (reason instanceof Error ? reason.message : String(reason))),
        [],
      );
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('the client resyncs after a reconnect: every lease is renewed at once, every waiter asks again', async () => {
    // What a failover to a replica that lacks the latest writes looks like from a client (the
    // Sentinel tests do it for real): a name's state gone, the connections re-established.
    const prefix = `rs-${randomBytes(4).toString('hex')}:`;
    const holder = await connect(server().url, { prefix });
    const waiter = await connect(server().url, { prefix });
    const admin = new Redis(server().url);
    opened.push(admin);
    try {
      // renewals a third of 5 minutes away: only the resync can find the lease gone in time
      const gone = await holder.mutex('gone', { ttl: 300_000 }).acquire();
      const kept = await holder.mutex('kept', { ttl: 300_000 }).acquire();
      const waiting = waiter.mutex('gone', { ttl: 10_000 }).acquire({ wait: 60_000 });
      await untilQueued(holder, 'gone', 1);
      await admin.del(...nameKeys(prefix, 'gone'));
      await admin.client('KILL', 'TYPE', 'pubsub');
      const reason = await withTimeout(aborted(gone.signal), 30_000, 'the lost lease to be signalled');
      assert.ok(reason instanceof LeaseLostError, String(reason));
      assert.equal(reason.reason, 'refused');
      assert.equal(kept.signal.aborted, false, 'a lease the server still has is renewed, not lost');
      const next = await withTimeout(waiting, 30_000, 'the waiter to hold');
      assert.ok(next.fence > gone.fence);
      await Promise.all([next.release(), kept.release()]);
    } finally {
      await Promise.all([holder.close(), waiter.close()]);
    }
  });
});

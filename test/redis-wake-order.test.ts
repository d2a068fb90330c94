/**
 * The Redis backend sends a release right behind a PING once this client's last release of the
 * name found others queued (release.lua's reply 2; connection.ts `behindPing`): Redis then
 * writes the woken waiter's message before the releaser's reply. Both clients live in this one
 * process, so the order in which it handles their two sockets is the order Redis wrote them in,
 * provided neither socket was read just before: epoll (level-triggered, as libuv uses it) puts a
 * socket it has just reported back in its ready list, ahead of sockets that turn readable
 * later. So a third client, not the releaser, watches for the waiter to queue.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connect, type Holdfast } from '../src/index.js';
import { untilQueued } from './helpers/queue.js';
import { useRedisServer } from './helpers/world.js';

const server = useRedisServer();

describe('redis: a release on a name that had waiters sends the wake-up before its reply', () => {
  let releaser: Holdfast | undefined;
  let waiter: Holdfast | undefined;
  let observer: Holdfast | undefined;
  before(async () => {
    const prefix = `t-${randomBytes(6).toString('hex')}:`;
    releaser = await connect(server().url, { prefix });
    waiter = await connect(server().url, { prefix });
    observer = await connect(server().url, { prefix });
  });
  after(async () => {
    await Promise.all([releaser?.close(), waiter?.close(), observer?.close()]);
  });

  /** One hand-off of `name` from releaser to waiter: which of the two heard of it first. */
  async function handOff(name: string): Promise<string[]> {
    assert.ok(releaser && waiter && observer);
    const heard: string[] = [];
    const lease = await releaser.mutex(name).acquire();
    const woken = waiter
      .mutex(name)
      .acquire()
      .then((granted) => {
        heard.push('waiter woken');
        return granted;
      });
    await untilQueued(observer, name, 1);
    const released = lease.release().then((held) => {
      heard.push('release answered');
      return held;
    });
    const [granted, held] = await Promise.all([woken, released]);
    assert.equal(held, true);
    assert.ok(granted.fence > lease.fence);
    await granted.release();
    return heard;
  }

  it('answers the first release of a name first (Redis’s own order), then wakes the waiter first once it knows the name has waiters', async () => {
    // Nothing told the releaser yet that this name has waiters: Redis writes the reply first.
    assert.deepEqual(await handOff('wake-order'), ['release answered', 'waiter woken']);
    // That release's reply said others were queued: the next goes behind a PING.
    assert.deepEqual(await handOff('wake-order'), ['waiter woken', 'release answered']);
    assert.deepEqual(await handOff('wake-order'), ['waiter woken', 'release answered']);
  });

  it('goes back to the plain release once a release of the name finds nobody queued', async () => {
    assert.ok(releaser);
    await handOff('wake-order:quiet');
    assert.deepEqual(await handOff('wake-order:quiet'), ['waiter woken', 'release answered']);
    // Released with nobody in line: the reply says so, and the next release is sent plainly.
    await (await releaser.mutex('wake-order:quiet').acquire()).release();
    assert.deepEqual(await handOff('wake-order:quiet'), ['release answered', 'waiter woken']);
  });
});

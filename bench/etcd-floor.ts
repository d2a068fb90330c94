/**
 * etcd's own floor for the etcd section, measured on the same cluster in the same run, with bare
 * etcd3 clients: how long one write takes to come back when writes follow each other (a put's
 * round trip, as in the uncontended loops), and how long a write takes to reach a watcher after
 * the cluster sat idle for IDLE_MS, as before each release of the hand-off measure (put → watch
 * event). A hand-off cannot beat the second: the waiter can hold only once the release is
 * committed and it has heard of it. The idle gap matters on a loaded machine: a write after
 * 20 ms of quiet took twice as long as one right after another (its processes were off the CPU).
 *
 * Each is measured twice: with the writer and the watcher on whichever member etcd3 picks (as
 * etcd3's Lock does), and with both on the leader (as holdfast does). A write sent to a follower
 * is forwarded to the leader and answered once the follower applied it, and a watcher on a
 * follower hears a commit one raft message after the leader: the difference is what those hops
 * cost here.
 */
import { Etcd3 } from 'etcd3';
import { percentile, sleep } from './stats.js';

/** The hand-off measure's wait before each release. */
export const IDLE_MS = 20;

export interface EtcdFloor {
  /** put → the put's reply, back to back, p50 ms (any member). */
  readonly putP50: number;
  /** put after IDLE_MS of quiet → a watcher on another connection hears it, p50 ms (any member). */
  readonly watchP50: number;
  /** The same two with the writer and the watcher both on the leader. */
  readonly leaderPutP50: number;
  readonly leaderWatchP50: number;
}

/** Samples of one way of placing the clients. */
export interface FloorSamples {
  readonly puts: number[];
  readonly events: number[];
}

/** `samples` of each, after a few unmeasured ones; pooled by the caller across rounds. */
async function measureOn(hosts: readonly string[], samples: number, into: FloorSamples): Promise<void> {
  const writer = new Etcd3({ hosts: [...hosts] });
  const reader = new Etcd3({ hosts: [...hosts] });
  const key = 'bench:floor';
  const watcher = await reader.watch().key(key).create();
  try {
    for (let i = -5; i < samples; i++) {
      const sent = performance.now();
      await writer.put(key).value(String(i)).exec();
      if (i >= 0) into.puts.push(performance.now() - sent);
    }
    for (let i = -2; i < samples; i++) {
      await sleep(IDLE_MS);
      const heard = new Promise<number>((resolve) => watcher.once('put', () => resolve(performance.now())));
      const sent = performance.now();
      await writer.put(key).value(String(i)).exec();
      const event = await heard;
      if (i >= 0) into.events.push(event - sent);
    }
  } finally {
    await watcher.cancel();
    writer.close();
    reader.close();
  }
}

/** Both floors: clients on any member of `hosts`, then both on `leader` (one of them). */
export async function measureEtcdFloor(
  hosts: readonly string[],
  leader: string,
  samples: number,
  any: FloorSamples,
  onLeader: FloorSamples,
): Promise<void> {
  await measureOn(hosts, samples, any);
  await measureOn([leader], samples, onLeader);
}

export function summarizeFloor(any: FloorSamples, onLeader: FloorSamples): EtcdFloor {
  return {
    putP50: percentile(any.puts, 50),
    watchP50: percentile(any.events, 50),
    leaderPutP50: percentile(onLeader.puts, 50),
    leaderWatchP50: percentile(onLeader.events, 50),
  };
}

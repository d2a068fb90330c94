/**
 * etcd's own floor for the etcd section, measured on the same cluster in the same run, with a
 * bare etcd3 client: how long one write takes to come back when writes follow each other (a
 * put's round trip, as in the uncontended loops), and how long a write takes to reach a watcher
 * after the cluster sat idle for IDLE_MS, as before each release of the hand-off measure (put →
 * watch event). A hand-off cannot beat the second: the waiter can hold only once the release is
 * committed and it has heard of it. The idle gap matters on a loaded machine: a write after
 * 20 ms of quiet took twice as long as one right after another (its processes were off the CPU).
 * Both go to whichever member etcd3 picks, as every library's calls here do.
 */
import { Etcd3 } from 'etcd3';
import { percentile, sleep } from './stats.js';

/** The hand-off measure's wait before each release. */
export const IDLE_MS = 20;

export interface EtcdFloor {
  /** put → the put's reply, back to back, p50 ms. */
  readonly putP50: number;
  /** put after IDLE_MS of quiet → a watcher on another connection hears it, p50 ms. */
  readonly watchP50: number;
}

/** `samples` of each, after a few unmeasured ones; pooled by the caller across rounds. */
export async function measureEtcdFloor(hosts: readonly string[], samples: number): Promise<[number[], number[]]> {
  const writer = new Etcd3({ hosts: [...hosts] });
  const reader = new Etcd3({ hosts: [...hosts] });
  const key = 'bench:floor';
  const watcher = await reader.watch().key(key).create();
  try {
    const puts: number[] = [];
    const events: number[] = [];
    for (let i = -5; i < samples; i++) {
      const sent = performance.now();
      await writer.put(key).value(String(i)).exec();
      if (i >= 0) puts.push(performance.now() - sent);
    }
    for (let i = -2; i < samples; i++) {
      await sleep(IDLE_MS);
      const heard = new Promise<number>((resolve) => watcher.once('put', () => resolve(performance.now())));
      const sent = performance.now();
      await writer.put(key).value(String(i)).exec();
      const event = await heard;
      if (i >= 0) events.push(event - sent);
    }
    return [puts, events];
  } finally {
    await watcher.cancel();
    writer.close();
    reader.close();
  }
}

export function summarizeFloor(puts: readonly number[], events: readonly number[]): EtcdFloor {
  return { putP50: percentile(puts, 50), watchP50: percentile(events, 50) };
}

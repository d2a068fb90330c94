/**
 * etcd's own floor for the etcd section, measured on the same cluster in the same run, with a
 * bare etcd3 client: how long one write takes to come back (a put's round trip) and to reach a
 * watcher (put → watch event). A hand-off cannot beat the second: the waiter can hold only once
 * the release is committed and it has heard of it. Both go to whichever member etcd3 picks, as
 * every library's calls here do.
 */
import { Etcd3 } from 'etcd3';
import { percentile } from './stats.js';

export interface EtcdFloor {
  /** put → the put's reply, p50 ms. */
  readonly putP50: number;
  /** put → a watcher on another connection hears it, p50 ms. */
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
      const heard = new Promise<number>((resolve) => watcher.once('put', () => resolve(performance.now())));
      const sent = performance.now();
      await writer.put(key).value(String(i)).exec();
      const replied = performance.now();
      const event = await heard;
      if (i < 0) continue;
      puts.push(replied - sent);
      events.push(event - sent);
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

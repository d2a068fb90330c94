/**
 * One client in sequence (part of measure 1), timed in fine alternation: every library
 * (holdfast on Redis without and with renewal, holdfast://, the peers) and every floor of that
 * row (floors.ts: two PINGs, two calls of the empty script, the lean-lock pair, two PINGs to
 * the embedded server) runs for SLICE ms in turn, ROUNDS times, in an order that moves by one
 * each round; each figure is the median of its slices.
 *
 * An acquire+release in sequence is two round trips, ~100 µs here, and the machine's state moves
 * it more than anything a library does, so whatever is compared must be timed at the same
 * moments. Timed as the other uncontended rows are (600 ms each, seconds apart, three rounds),
 * the lean-lock pair read 0.78–1.09× the fastest peer over four runs; in 12 alternating rounds of
 * 400 ms it read 0.85–0.95× in five.
 */
import { Redis } from 'ioredis';
import { evalshaMicros, type Floors, type ParallelFloors, roundTripOps } from './floors.js';
import { LIBS, type LibName, type Locker, openLocker } from './libs.js';
import { JIT_WARMUP, median } from './stats.js';

const ROUNDS = 12;
const SLICE = 250;
/** Before each slice; every contender first runs JIT_WARMUP once. */
const WARMUP = 50;

/** What is timed: the libraries' rows and the floors. */
export type SequentialSubject = LibName | 'holdfast defaults' | 'holdfast://' | FloorName;
type FloorName = 'ping' | 'empty script' | 'lean pair' | 'embedded ping';

export interface SequentialResult {
  /** µs per acquire+release (for a floor: its two round trips), median of the slices. */
  readonly pair: Readonly<Record<SequentialSubject, number>>;
  /** The floors in the shape the targets read them (floors.ts), but the parallel one. */
  readonly floors: Omit<Floors, keyof ParallelFloors>;
}

interface Contender {
  readonly subject: SequentialSubject;
  /** One acquire+release, or the floor's two round trips. */
  readonly pair: () => Promise<unknown>;
  /** Redis's EVALSHA µs so far, read around the slice: the script time of each pair. */
  readonly scripts?: () => Promise<number>;
}

/** One acquire+release of `key` through `locker`, renewing as `renew` says (undefined: the library's default). */
const cycle = (locker: Locker, key: string, renew?: boolean) => async (): Promise<void> => {
  const release = await locker.acquire(key, renew === undefined ? {} : { renew });
  await release();
};

async function timeSlice(contender: Contender, warmup: number): Promise<{ micros: number; scripts: number }> {
  const warm = performance.now() + warmup;
  while (performance.now() < warm) await contender.pair();
  const before = contender.scripts ? await contender.scripts() : Number.NaN;
  let pairs = 0;
  const start = performance.now();
  const end = start + SLICE;
  while (performance.now() < end) {
    await contender.pair();
    pairs++;
  }
  const micros = ((performance.now() - start) * 1000) / pairs;
  const scripts = contender.scripts ? ((await contender.scripts()) - before) / pairs : Number.NaN;
  return { micros, scripts };
}

/** `url`: the bench's Redis; `embeddedUrl`: its holdfast:// server. */
export async function runSequential(url: string, embeddedUrl: string): Promise<SequentialResult> {
  const admin = new Redis(url);
  const lockers = await Promise.all(LIBS.map((lib) => openLocker(lib, url)));
  const embedded = await openLocker('holdfast', embeddedUrl);
  const ops = await roundTripOps(url, embeddedUrl);
  const holdfast = lockers.find((locker) => locker.lib === 'holdfast') as Locker;
  try {
    const scripts = (): Promise<number> => evalshaMicros(admin);
    const contenders: Contender[] = [
      ...lockers.map((locker): Contender => {
        // The like-for-like setting: holdfast without renewal; peers exactly as they come.
        const renew = locker.lib === 'holdfast' ? false : undefined;
        const own = cycle(locker, 'u:seq', renew);
        return locker.lib === 'holdfast'
          ? { subject: locker.lib, pair: own, scripts }
          : { subject: locker.lib, pair: own };
      }),
      { subject: 'holdfast defaults', pair: cycle(holdfast, 'u:seq-default') },
      { subject: 'holdfast://', pair: cycle(embedded, 'u:seq', false) },
      { subject: 'ping', pair: async () => [await ops.ping(), await ops.ping()] },
      { subject: 'empty script', pair: async () => [await ops.emptyScript(), await ops.emptyScript()], scripts },
      { subject: 'lean pair', pair: ops.leanPair },
      { subject: 'embedded ping', pair: async () => [await ops.embeddedPing(), await ops.embeddedPing()] },
    ];
    const micros = new Map<SequentialSubject, number[]>(contenders.map((c) => [c.subject, []]));
    const scriptMicros = new Map<SequentialSubject, number[]>(contenders.map((c) => [c.subject, []]));
    for (const contender of contenders) await timeSlice(contender, JIT_WARMUP);
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < contenders.length; i++) {
        const contender = contenders[(round + i) % contenders.length] as Contender;
        const slice = await timeSlice(contender, WARMUP);
        micros.get(contender.subject)?.push(slice.micros);
        scriptMicros.get(contender.subject)?.push(slice.scripts);
      }
    }
    const pair = Object.fromEntries(contenders.map((c) => [c.subject, median(micros.get(c.subject) ?? [])])) as Record<
      SequentialSubject,
      number
    >;
    const floors: SequentialResult['floors'] = {
      roundTrip: pair.ping / 2,
      scriptRoundTrip: pair['empty script'] / 2,
      embeddedRoundTrip: pair['embedded ping'] / 2,
      leanPair: pair['lean pair'],
      emptyScriptTime: median(scriptMicros.get('empty script') ?? []) / 2,
      holdfastScripts: median(scriptMicros.get('holdfast') ?? []),
    };
    return { pair, floors };
  } finally {
    ops.close();
    await Promise.all([...lockers, embedded].map((locker) => locker.close()));
    admin.disconnect();
  }
}

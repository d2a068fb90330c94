/**
 * The issue's targets, checked against the result rows of the sections that ran. Each checked
 * row also gets its verdict (✓/✗) in the table's last column, and every target prints its ratio
 * and, where the machine bounds it, the floor measured in the same run. holdfast (on Redis) is
 * checked against every target; holdfast:// (the embedded server) against the same ratios
 * where they apply (marked "embedded").
 */
import { CONTENDED, ROUND_TRIPS } from './contended.js';
import { EXPIRY_FLOOR, TTL } from './expiry.js';
import type { Floors } from './floors.js';
import { type HandoffFloor, handoffLabel, PLACEMENTS, type Placement } from './handoff.js';
import type { HandoffScriptTimes } from './handoff-script-time.js';
import { RATE_LABEL, type RateColumn } from './rate.js';
import { HELD_FEW, HELD_MANY, MEASURES, QUEUE_LONG } from './scale.js';
import type { LockColumn, Row, Target } from './table.js';

const mark = (met: boolean): string => (met ? '✓' : '✗');

function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : '∞';
}

const ms = (x: number | null | undefined): string => `${(x ?? Number.NaN).toFixed(3)} ms`;
const perSecond = (x: number | null | undefined): string => `${Math.round(x ?? Number.NaN).toLocaleString('en-US')}/s`;

const PEERS = ['redlock', 'redis-semaphore'] as const;
type Peer = (typeof PEERS)[number];
type Subject = 'holdfast' | 'holdfast://';
const SUBJECTS: readonly Subject[] = ['holdfast', 'holdfast://'];

/** `of`'s advantage over `vs` in `row` (> 1: better), NaN when either is missing. */
function advantage(row: Row, of: Subject, vs: LockColumn): number {
  const a = row.values[of];
  const b = row.values[vs];
  if (a === null || b === null || a === undefined || b === undefined) return Number.NaN;
  if (row.better === 'higher') return b === 0 ? Number.POSITIVE_INFINITY : a / b;
  const floor = row.resolution ?? 0.001;
  return Math.max(b, floor) / Math.max(a, floor);
}

class Checker<C extends string> {
  readonly targets: Target[];
  readonly #rows: Row<C>[];

  constructor(rows: Row<C>[], targets: Target[]) {
    this.#rows = rows;
    this.targets = targets;
  }

  /** The row whose measure starts with `prefix`, or undefined when its section did not run. */
  find(prefix: string): Row<C> | undefined {
    return this.#rows.find((r) => r.measure.startsWith(prefix));
  }

  /** Appends `verdict` to the target column of the row whose measure starts with `prefix`. */
  mark(prefix: string, verdict: string): void {
    const index = this.#rows.findIndex((r) => r.measure.startsWith(prefix));
    const row = this.#rows[index];
    if (row === undefined) return;
    this.#rows[index] = { ...row, target: row.target ? `${row.target}; ${verdict}` : verdict };
  }

  add(text: string, met: boolean, detail: string, floor?: string): void {
    this.targets.push(floor === undefined ? { text, met, detail } : { text, met, detail, floor });
  }
}

const who = (subject: Subject): string => (subject === 'holdfast' ? '' : ' [embedded]');

/** Checks the targets whose rows exist; replaces the checked rows by copies with a target column. */
export function checkTargets(
  rows: Row[],
  rateRows: Row<RateColumn>[],
  floors: Floors | null,
  handoffFloors: Record<Placement, HandoffFloor> | null,
): Target[] {
  const targets: Target[] = [];
  const check = new Checker(rows, targets);
  checkUncontended(check, floors);
  checkHandoff(check, handoffFloors);
  checkContended(check, floors, handoffFloors);
  checkExpiry(check);
  checkScale(check);
  checkRateTargets(new Checker(rateRows, targets));
  return targets;
}

/** The faster peer's value and name in a `higher` row. */
function fastestPeer(row: Row): { peer: Peer; value: number } {
  const [a, b] = PEERS.map((peer) => ({ peer, value: row.values[peer] ?? Number.NaN }));
  return (a?.value ?? 0) >= (b?.value ?? 0)
    ? (a as { peer: Peer; value: number })
    : (b as { peer: Peer; value: number });
}

/**
 * What bounds one client in sequence: two round trips (on Redis, two script calls, which cost
 * more than a PING before the script does anything, plus holdfast's own script time), and on
 * Redis the leanest pair of scripts that keeps holdfast's contract on a free name (floors.ts):
 * when even that pair falls short of the target, the target lies past what a lock keeping that
 * contract in scripts reached here.
 */
function sequentialFloor(floors: Floors, subject: Subject, own: number, peer: Peer, best: number): string {
  const bound = (micros: number): string => `≤ ${perSecond(1e6 / micros)} = ${fmt(1e6 / micros / best)} ${peer}`;
  const at = (micros: number): string => fmt((own * micros) / 1e6);
  if (subject !== 'holdfast') {
    const trip = floors.embeddedRoundTrip;
    return `2 round trips to the embedded server (PING ${trip.toFixed(1)} µs each): ${bound(2 * trip)}; holdfast:// is at ${at(2 * trip)} of that floor`;
  }
  const {
    roundTrip: ping,
    scriptRoundTrip: script,
    emptyScriptTime: empty,
    holdfastScripts: scripts,
    leanPair,
  } = floors;
  const leanRatio = 1e6 / leanPair / best;
  // The empty script's own run is inside holdfast's script time already.
  const withScripts = 2 * (script - empty) + scripts;
  return (
    `2 Redis round trips (PING ${ping.toFixed(1)} µs each): ${bound(2 * ping)}; holdfast is at ${at(2 * ping)} of that floor. ` +
    `2 calls of an empty script with an acquire's arguments (${script.toFixed(1)} µs each, ${empty.toFixed(1)} µs of it in Redis: what any script-based lock pays) ` +
    `with holdfast's two scripts instead (${scripts.toFixed(1)} µs of Redis time): ${bound(withScripts)}; holdfast is at ${at(withScripts)} of that. ` +
    `The leanest scripts we could write that keep holdfast's contract on a free name (bench/lean-lock: fence from the server's clock and the last fence, ` +
    `no passing a queued waiter, the listeners checked, the holder recorded with its expiry, the key's TTL; 2 keys and 4 arguments), ` +
    `${leanPair.toFixed(1)} µs per acquire+release: ${bound(leanPair)}` +
    `${leanRatio < 0.95 ? ' (short of 0.95×: even these scripts do not reach it here)' : ''}; holdfast is at ${at(leanPair)} of that`
  );
}

/**
 * The lean scripts' Redis CPU at 64 in parallel (floors.ts): what the least we found a lock of
 * holdfast's contract to cost lets Redis's one core reach, unbatched (batching, as holdfast
 * does, only takes cost away).
 */
function parallelLeanFloor(lean: number, own: number, peer: Peer, best: number): string {
  return (
    `. The leanest scripts that keep holdfast's contract (bench/lean-lock), one EVALSHA each, cost Redis ${lean.toFixed(1)} µs per acquire+release at 64 in parallel: ` +
    `where Redis's core is the limit ≤ ${perSecond(1e6 / lean)} = ${fmt(1e6 / lean / best)} ${peer}; holdfast costs Redis ${fmt(own / lean)} what they do`
  );
}

function checkUncontended(check: Checker<LockColumn>, floors: Floors | null): void {
  const seq = check.find('uncontended, 1 client sequential (hf autoExtend:false)');
  const par = check.find('uncontended, 64 keys in parallel (hf autoExtend:false)');
  const cpu = check.find('server CPU per acquire+release');
  for (const subject of SUBJECTS) {
    if (par) {
      const { peer, value } = fastestPeer(par);
      const r = advantage(par, subject, peer);
      check.mark(par.measure, `${subject}: ≥ 1.2× ${mark(r >= 1.2)}`);
      const serverCpu = cpu?.values[subject] ?? Number.NaN;
      check.add(
        `uncontended, 64 in parallel in one process: ≥ 1.2× the fastest peer${who(subject)}`,
        r >= 1.2,
        `${perSecond(par.values[subject])} vs ${peer} ${perSecond(value)} = ${fmt(r)}`,
        `the server's one core at ${serverCpu.toFixed(1)} µs of CPU per acquire+release: ≤ ${perSecond(1e6 / serverCpu)} = ${fmt(1e6 / serverCpu / value)} ${peer}; ` +
          `${peer} costs Redis ${(cpu?.values[peer] ?? Number.NaN).toFixed(1)} µs, so where Redis's core is the limit ${subject} reaches ≤ ${fmt((cpu?.values[peer] ?? Number.NaN) / serverCpu)} of it` +
          (subject === 'holdfast' && floors ? parallelLeanFloor(floors.leanParallelCpu, serverCpu, peer, value) : ''),
      );
    }
    if (seq) {
      const { peer, value } = fastestPeer(seq);
      const r = advantage(seq, subject, peer);
      check.mark(seq.measure, `${subject}: ≥ 0.95× ${mark(r >= 0.95)}`);
      const own = seq.values[subject] ?? Number.NaN;
      const floor = floors ? sequentialFloor(floors, subject, own, peer, value) : undefined;
      check.add(
        `uncontended, 1 client sequential: ≥ 0.95× the fastest peer${who(subject)}`,
        r >= 0.95,
        `${perSecond(own)} vs ${peer} ${perSecond(value)} = ${fmt(r)}`,
        floor,
      );
    }
  }
  const ceiling = check.find('embedded server ceiling');
  if (ceiling) {
    const value = ceiling.values['holdfast://'] ?? Number.NaN;
    check.add(
      'the embedded server: its ceiling (acquire+release/s on one core) printed',
      Number.isFinite(value),
      `${perSecond(value)} (1 s ÷ its CPU per acquire+release at 64 in parallel)`,
    );
  }
}

function checkHandoff(check: Checker<LockColumn>, floors: Record<Placement, HandoffFloor> | null): void {
  for (const { label } of PLACEMENTS) {
    const row = check.find(`${handoffLabel(label)} p50`);
    if (!row) continue;
    const measured = floors?.[label];
    for (const subject of SUBJECTS) {
      const p50 = row.values[subject] ?? Number.NaN;
      // Redis's bare pub/sub for holdfast, a bare Node relay for the embedded server (a Node process).
      const floor = measured && (subject === 'holdfast' ? measured : measured.relay);
      const bare =
        subject === 'holdfast'
          ? 'bare PUBLISH → SUBSCRIBE'
          : 'bare relay through a Node process on the embedded server’s core (relay-server.ts)';
      if (floor) {
        const r = p50 / floor.p50;
        check.mark(row.measure, `${subject}: ≤ 1.3× floor ${mark(r <= 1.3)}`);
        check.add(
          `hand-off p50 ≤ 1.3× the ${subject === 'holdfast' ? 'bare PUBLISH → SUBSCRIBE' : 'bare relay'} floor (${label})${who(subject)}`,
          r <= 1.3,
          `${subject} p50 ${ms(p50)} = ${r.toFixed(2)}× the floor`,
          `a ${bare} between the same two processes, same harness and cores: p50 ${ms(floor.p50)}, p99 ${ms(floor.p99)}` +
            (subject === 'holdfast' && measured ? scriptBound(p50, floor.p50, measured.scripts) : ''),
        );
      }
      const ratios = PEERS.map((peer) => advantage(row, subject, peer));
      const met = ratios.every((r) => r >= 10);
      check.mark(row.measure, `${subject}: ≥ 10× peers ${mark(met)}`);
      // A hand-off can be no faster than the bare hop: say how close to it 10× requires.
      const needed = Math.min(...PEERS.map((peer) => row.values[peer] ?? Number.POSITIVE_INFINITY)) / 10;
      check.add(
        `hand-off p50 ≥ 10× faster than every peer (${label})${who(subject)}`,
        met,
        `${ms(p50)}; ${PEERS.map((peer, i) => `${fmt(ratios[i])} vs ${peer} (${ms(row.values[peer])})`).join(', ')}`,
        floor
          ? `10× the fastest peer needs ≤ ${ms(needed)} = ${(needed / floor.p50).toFixed(2)}× the ${bare} p50 (${ms(floor.p50)}), which carries no lock at all`
          : undefined,
      );
    }
  }
}

/**
 * What the hand-off script's own Redis time adds to the bare hop (handoff-script-time.ts): both
 * sent after an idle spell, as in the measure.
 */
function scriptBound(p50: number, floor: number, scripts: HandoffScriptTimes): string {
  const extra = (scripts.handoff - scripts.publish) / 1000;
  const lean = floor + (scripts.lean - scripts.publish) / 1000;
  return (
    `; holdfast's release-and-hand-off script, sent after an idle spell as here, takes ${scripts.handoff.toFixed(0)} µs of Redis time (p50) where the floor's PUBLISH takes ${scripts.publish.toFixed(0)} µs: the floor plus that difference is ${ms(floor + extra)}, holdfast at ${(p50 / (floor + extra)).toFixed(2)}× of it. ` +
    `The leanest hand-off script we could write that keeps holdfast's contract (bench/lean-lock/handoff.lua) takes ${scripts.lean.toFixed(0)} µs: the floor plus its difference is ${ms(lean)} = ${(lean / floor).toFixed(2)}× the floor`
  );
}

/**
 * Strict FIFO across processes: each acquisition waits for the previous holder's release to
 * reach the backend and the grant to reach the next waiter (a pub/sub hop, at best the bare
 * floor, whichever process that waiter is in: every hand-off goes through the backend), then
 * holds for the critical section's round trips. An unfair peer mostly re-acquires in the
 * process that just released, with no hop at all.
 */
function fairCeiling(floors: Floors | null, handoff: Record<Placement, HandoffFloor> | null): number | null {
  if (!floors || !handoff) return null;
  return 1000 / (handoff.apart.p50 + (ROUND_TRIPS * floors.roundTrip) / 1000);
}

function checkContended(
  check: Checker<LockColumn>,
  floors: Floors | null,
  handoff: Record<Placement, HandoffFloor> | null,
): void {
  const rate = check.find(`${CONTENDED}: acquisitions/s`);
  const p99 = check.find(`${CONTENDED}: acquire wait p99`);
  const fair = check.find(`${CONTENDED}: fairness`);
  if (!rate || !p99 || !fair) return;
  const ceiling = fairCeiling(floors, handoff);
  const best = Math.max(...PEERS.map((peer) => rate.values[peer] ?? 0));
  const ceilingText =
    ceiling === null
      ? undefined
      : `strict FIFO across processes: per acquisition a hand-off through the backend (at best the bare pub/sub p50 ${ms(handoff?.apart.p50)}) + ${ROUND_TRIPS} round trips held (PING ${floors?.roundTrip.toFixed(1)} µs): ≤ ${perSecond(ceiling)} = ${fmt(ceiling / best)} the best peer. 2× the best peer allows ${ms(1000 / (2 * best))} per acquisition, ${fmt(1000 / (2 * best) / ((ROUND_TRIPS * (floors?.roundTrip ?? 0)) / 1000))} the critical section alone: only turns passed on inside a process without the backend (giving up strict cross-process FIFO; README, Performance, "Contended") could reach it`;
  for (const subject of SUBJECTS) {
    const fairPeers = PEERS.filter((peer) => (fair.values[peer] ?? 0) >= 0.8);
    const unfair = PEERS.filter((peer) => !fairPeers.includes(peer));
    const ratios = fairPeers.map((peer) => advantage(p99, subject, peer));
    const ownFair = (fair.values[subject] ?? 0) >= 0.8;
    const met = ownFair && ratios.every((r) => r >= 10);
    check.mark(p99.measure, `${subject}: ≥ 10× ${mark(met)}`);
    check.add(
      `contended: wait p99 ≥ 10× lower than every peer that keeps fairness ≥ 0.8${who(subject)}`,
      met,
      `p99 ${ms(p99.values[subject])}, fairness ${(fair.values[subject] ?? Number.NaN).toFixed(2)}; ` +
        (fairPeers.length
          ? fairPeers.map((peer, i) => `${fmt(ratios[i])} vs ${peer} (${ms(p99.values[peer])})`).join(', ')
          : 'no peer keeps fairness ≥ 0.8') +
        (unfair.length
          ? `; left out (fairness < 0.8): ${unfair.map((p) => `${p} ${(fair.values[p] ?? Number.NaN).toFixed(2)}, p99 ${ms(p99.values[p])}`).join(', ')}`
          : ''),
    );
    const rates = PEERS.map((peer) => advantage(rate, subject, peer));
    const fast = rates.every((r) => r >= 2);
    check.mark(rate.measure, `${subject}: ≥ 2× ${mark(fast)}`);
    check.add(
      `contended: acquisitions/s ≥ 2× every peer${who(subject)}`,
      fast,
      `${perSecond(rate.values[subject])}; ${PEERS.map((peer, i) => `${fmt(rates[i])} vs ${peer} (${perSecond(rate.values[peer])})`).join(', ')}`,
      subject === 'holdfast' ? ceilingText : undefined,
    );
  }
}

function checkExpiry(check: Checker<LockColumn>): void {
  const row = check.find('expiry take-over (SIGKILLed holder');
  const p99 = row && check.find(`${row.measure.replace(/ p50$/, '')} p99`);
  if (!p99) return;
  const floor50 = check.find(`${EXPIRY_FLOOR} p50`);
  const floor99 = check.find(`${EXPIRY_FLOOR} p99`);
  for (const subject of SUBJECTS) {
    const value = p99.values[subject] ?? Number.NaN;
    const floor = `a Node timer armed for the TTL, then one PING to ${subject === 'holdfast' ? 'Redis' : 'the embedded server'} idle that long (the same process, lanes and rounds): p50 ${ms(floor50?.values[subject])}, p99 ${ms(floor99?.values[subject])}`;
    check.mark(p99.measure, `${subject}: ≤ 5 ms ${mark(value <= 5)}`);
    check.add(
      `expiry take-over after a SIGKILLed holder: p99 ≤ 5 ms after the TTL${who(subject)}`,
      value <= 5,
      `p99 ${ms(value)} after a ${TTL} ms TTL; ${PEERS.map((peer) => `${peer} ${ms(p99.values[peer])}`).join(', ')}`,
      subject === 'holdfast'
        ? `${floor}. The head waiter asks again at the moment Redis said the TTL runs out (counted from when it sent the request that told it, in µs): that timer's lateness, then that round trip (an early arrival is answered with what is left, never granted). The TTL's end is estimated on the machine's shared monotonic clock (the holder's acquire round-trip midpoint + TTL)`
        : `the server hands the name to its head waiter when its own timer for the TTL fires (that timer's lateness, then one push), or the waiter's ask comes first: ${floor}`,
    );
  }
}

function checkScale(check: Checker<LockColumn>): void {
  const memory = check.find(MEASURES.memory);
  const few = check.find(MEASURES.few);
  const many = check.find(MEASURES.many);
  const one = check.find(MEASURES.one);
  const long = check.find(MEASURES.long);
  if (!memory || !few || !many || !one || !long) return;
  for (const subject of SUBJECTS) {
    const growth = (many.values[subject] ?? Number.NaN) / (few.values[subject] ?? Number.NaN);
    const bytes = memory.values[subject] ?? Number.NaN;
    const where = subject === 'holdfast' ? 'on one Redis' : 'on the embedded server';
    check.mark(many.measure, `${subject}: within 20 % ${mark(growth <= 1.2)}`);
    check.add(
      `scale: ${HELD_MANY.toLocaleString('en-US')} locks held at once ${where}: acquire+release latency within 20 % of ${HELD_FEW} held`,
      growth <= 1.2,
      `p50 ${few.values[subject]?.toFixed(1)} µs → ${many.values[subject]?.toFixed(1)} µs (${fmt(growth)}); ${Math.round(bytes)} bytes of ${subject === 'holdfast' ? 'Redis memory' : 'server heap'} per held lock`,
    );
    const slower = (long.values[subject] ?? Number.NaN) / (one.values[subject] ?? Number.NaN);
    check.mark(long.measure, `${subject}: ≤ 2× ${mark(slower <= 2)}`);
    check.add(
      `scale: hand-off p50 with ${QUEUE_LONG.toLocaleString('en-US')} waiters ≤ 2× that with 1${who(subject)}`,
      slower <= 2,
      `${ms(one.values[subject])} → ${ms(long.values[subject])} (${fmt(slower)})`,
    );
  }
  const releaseOne = check.find(MEASURES.releaseOne);
  const releaseLong = check.find(MEASURES.releaseLong);
  const releaseShort = check.find(MEASURES.releaseShort);
  if (releaseOne && releaseLong && releaseShort) {
    const a = releaseShort.values.holdfast ?? Number.NaN;
    const b = releaseLong.values.holdfast ?? Number.NaN;
    const single = releaseOne.values.holdfast ?? Number.NaN;
    // O(log n): from ≤ 200 to 1,000 waiters a log-cost grows by well under 1.5×, a linear one 5×+.
    const met = b / a <= 1.5;
    check.mark(releaseLong.measure, `≤ 1.5× the chain's end ${mark(met)}`);
    check.add(
      `scale: a release's Redis time does not grow with the queue (${QUEUE_LONG.toLocaleString('en-US')} waiters vs ≤ 200 in the same chain: ≤ 1.5×, O(log n) at most)`,
      met,
      `p50 ${a.toFixed(1)} µs → ${b.toFixed(1)} µs (${fmt(b / a)}); with a single waiter ${single.toFixed(1)} µs (Redis keeps a short queue in a compact encoding); SLOWLOG`,
    );
  }
}

const WAIT_P99 = 5;

function checkRateTargets(check: Checker<RateColumn>): void {
  const peer = 'rate-limiter-flexible';
  const over = check.find(`${RATE_LABEL}: over-admissions`);
  const rate = check.find(`${RATE_LABEL}: decisions/s`);
  if (!over || !rate) return;
  const overs = over.values.holdfast ?? Number.NaN;
  const r = (rate.values.holdfast ?? Number.NaN) / (rate.values[peer] ?? Number.NaN);
  const met = r >= 1 && overs === 0;
  check.mark(over.measure, `0 ${mark(overs === 0)}`);
  check.mark(rate.measure, `≥ RLF with 0 over-admissions ${mark(met)}`);
  const value = (x: number | null): string => Math.round(x ?? Number.NaN).toLocaleString('en-US');
  check.add(
    'rate limiter: holdfast decisions/s ≥ rate-limiter-flexible decisions/s with 0 over-admissions',
    met,
    `${value(rate.values.holdfast)} vs ${value(rate.values[peer])} decisions/s (${fmt(r)}), ` +
      `${overs} over-admissions (RLF ${over.values[peer]}, by client receive times)`,
  );
  const p50 = check.find('rate limiter wait for a slot p50');
  const p99 = check.find('rate limiter wait for a slot p99');
  if (!p50 || !p99) return;
  const waitMet = (p99.values.holdfast ?? Number.NaN) <= WAIT_P99;
  check.mark(p99.measure, `≤ ${WAIT_P99} ms ${mark(waitMet)}`);
  const msOf = (x: number | null): string => `${(x ?? Number.NaN).toFixed(1)} ms`;
  check.add(
    `rate limiter take() admitted within a few ms of the slot opening (p99 ≤ ${WAIT_P99} ms)`,
    waitMet,
    `holdfast p50 ${msOf(p50.values.holdfast)}, p99 ${msOf(p99.values.holdfast)}`,
  );
}

/**
 * The targets, checked against the result rows. Each checked row also gets its verdict
 * (✓/✗) in the table's last column. Every verdict is printed, met or not. The holdfast://
 * columns are informational: no target looks at them.
 */
import { BACK_TO_BACK, BUSY_MS, PROCESSES, WITH_GAP } from './contended.js';
import type { Floors } from './floors.js';
import { RATE_LABEL, type RateColumn } from './rate.js';
import { type Row, ratio, type Target } from './table.js';

const mark = (met: boolean): string => (met ? '✓' : '✗');

function fmt(x: number | null): string {
  if (x === null || Number.isNaN(x)) return 'n/a';
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : '∞';
}

/** holdfast's advantage over the better of the two peers (the smaller ratio). */
function worst(row: Row): number {
  return Math.min(ratio(row, 'redlock') ?? Number.NaN, ratio(row, 'redis-semaphore') ?? Number.NaN);
}

function versusBoth(row: Row): string {
  return `${fmt(ratio(row, 'redlock'))} vs redlock, ${fmt(ratio(row, 'redis-semaphore'))} vs redis-semaphore`;
}

class Checker<C extends string> {
  readonly targets: Target[];
  readonly #rows: Row<C>[];

  constructor(rows: Row<C>[], targets: Target[]) {
    this.#rows = rows;
    this.targets = targets;
  }

  /** The row whose measure starts with `prefix`; `verdict` is appended to its target column. */
  row(prefix: string, verdict: (row: Row<C>) => string): Row<C> {
    const index = this.#rows.findIndex((r) => r.measure.startsWith(prefix));
    const row = this.#rows[index];
    if (row === undefined) throw new Error(`no row "${prefix}"`);
    this.#rows[index] = { ...row, target: verdict(row) };
    return row;
  }

  add(text: string, met: boolean, detail: string, floor?: string): void {
    this.targets.push(floor === undefined ? { text, met, detail } : { text, met, detail, floor });
  }
}

/** The faster peer's value in a `higher` row. */
function fasterPeer(row: Row): number {
  return Math.max(row.values.redlock ?? Number.NaN, row.values['redis-semaphore'] ?? Number.NaN);
}

const perSecond = (x: number): string => `${Math.round(x).toLocaleString('en-US')}/s`;

/**
 * Checks the targets; replaces the checked rows in `rows` and `rateRows` by copies with a target
 * column. Where `floors` bound what any lock of holdfast's design could reach here, the target
 * says so beside its verdict.
 */
export function checkTargets(rows: Row[], rateRows: Row<RateColumn>[], floors: Floors): Target[] {
  const targets: Target[] = [];
  const check = new Checker(rows, targets);

  const handoff = check.row('hand-off latency p50', (r) => {
    return `≤ 0.5 ms ${mark((r.values.holdfast ?? Number.NaN) <= 0.5)}, ≥ 10× ${mark(worst(r) >= 10)}`;
  });
  const p50 = handoff.values.holdfast ?? Number.NaN;
  const publish = floors.publish.p50;
  const handoffFloor = `a bare PUBLISH → SUBSCRIBE between the same two processes, same harness: p50 ${publish.toFixed(3)} ms`;
  check.add('hand-off p50 ≤ 0.5 ms', p50 <= 0.5, `holdfast p50 ${p50.toFixed(3)} ms`, handoffFloor);
  check.add('hand-off p50 ≥ 10× faster than both peers', worst(handoff) >= 10, versusBoth(handoff), handoffFloor);

  for (const [label, shape] of [
    [BACK_TO_BACK, 'back-to-back'],
    [WITH_GAP, 'with other work between acquires'],
  ] as const) {
    const contended = check.row(`${label}: acquire wait p99`, (r) => `≥ 10× ${mark(worst(r) >= 10)}`);
    const text = `contended wait p99 ≥ 10× lower than both peers (${shape})`;
    // Back to back, every process always wants the lock: in FIFO order each acquire waits for
    // the other processes' critical sections, whatever the hand-off costs.
    const fifo = (PROCESSES - 1) * BUSY_MS;
    const needed =
      Math.min(contended.values.redlock ?? Number.NaN, contended.values['redis-semaphore'] ?? Number.NaN) / 10;
    const floor =
      shape === 'back-to-back'
        ? `a FIFO acquire waits for the ${PROCESSES - 1} others' critical sections: ≥ ${fifo.toFixed(1)} ms; the target needs p99 ≤ ${needed.toFixed(3)} ms`
        : undefined;
    check.add(text, worst(contended) >= 10, versusBoth(contended), floor);
  }

  const serverCpu = check.row('server CPU per acquire+release', () => '');
  for (const setting of ['hf autoExtend:false', 'hf defaults']) {
    const info = setting === 'hf defaults' ? ' (informational)' : '';
    for (const shape of ['1 client sequential', '64 keys in parallel']) {
      const row = check.row(`uncontended, ${shape} (${setting})`, (r) => `≥ 1.2× ${mark(worst(r) >= 1.2)}${info}`);
      const text = `uncontended throughput ≥ 1.2× the faster peer: ${shape}, ${setting}${info}`;
      const peer = fasterPeer(row);
      const ceiling = shape === '1 client sequential' ? sequentialCeiling(floors) : redisCeiling(serverCpu);
      const bare =
        ceiling.bare === undefined
          ? ''
          : ` (the round trips alone: ≤ ${perSecond(ceiling.bare)} = ${fmt(ceiling.bare / peer)})`;
      const floor = `${ceiling.what}: ≤ ${perSecond(ceiling.rate)} = ${fmt(ceiling.rate / peer)} the faster peer${bare}`;
      check.add(text, worst(row) >= 1.2, `${fmt(worst(row))} the faster peer`, floor);
    }
  }

  checkRateTargets(new Checker(rateRows, targets));
  return targets;
}

interface Ceiling {
  readonly what: string;
  readonly rate: number;
  /** What the same bound allows a lock that costs Redis nothing (when that is meaningful). */
  readonly bare?: number;
}

/**
 * One client, one at a time: two round trips per acquire+release, plus Redis's time for the two
 * scripts. The round trips alone bound any lock that confirms both steps; the scripts, holdfast.
 */
function sequentialCeiling(floors: Floors): Ceiling {
  const { roundTrip, holdfastScripts } = floors;
  return {
    what: `2 Redis round trips (PING ${roundTrip.toFixed(1)} µs each) + holdfast's scripts (${holdfastScripts.toFixed(1)} µs)`,
    rate: 1e6 / (2 * roundTrip + holdfastScripts),
    bare: 1e6 / (2 * roundTrip),
  };
}

/** Redis runs commands on one thread: its CPU per acquire+release bounds the throughput. */
function redisCeiling(serverCpu: Row): Ceiling {
  const cpu = serverCpu.values.holdfast ?? Number.NaN;
  return { what: `one Redis core at ${cpu.toFixed(1)} µs of CPU per holdfast acquire+release`, rate: 1e6 / cpu };
}

const WAIT_P99 = 5;

function checkRateTargets(check: Checker<RateColumn>): void {
  const peer = 'rate-limiter-flexible';
  const over = check.row(`${RATE_LABEL}: over-admissions`, (r) => `0 ${mark(r.values.holdfast === 0)}`);
  const overs = over.values.holdfast ?? Number.NaN;
  const met = (r: Row<RateColumn>): boolean =>
    (r.values.holdfast ?? Number.NaN) >= (r.values[peer] ?? Number.NaN) && overs === 0;
  const rate = check.row(`${RATE_LABEL}: decisions/s`, (r) => `≥ RLF with 0 over-admissions ${mark(met(r))}`);
  const value = (x: number | null): string => Math.round(x ?? Number.NaN).toLocaleString('en-US');
  check.add(
    'rate limiter: holdfast decisions/s ≥ rate-limiter-flexible decisions/s with 0 over-admissions',
    met(rate),
    `${value(rate.values.holdfast)} vs ${value(rate.values[peer])} decisions/s (${fmt(ratio(rate, peer))}), ` +
      `${overs} over-admissions (RLF ${over.values[peer]}, by client receive times)`,
  );

  const p50 = check.row('rate limiter wait for a slot p50', () => '');
  const p99 = check.row('rate limiter wait for a slot p99', (r) => `≤ ${WAIT_P99} ms ${mark(waitMet(r))}`);
  const ms = (x: number | null): string => `${(x ?? Number.NaN).toFixed(1)} ms`;
  check.add(
    `rate limiter take() admitted within a few ms of the slot opening (p99 ≤ ${WAIT_P99} ms)`,
    waitMet(p99),
    `holdfast p50 ${ms(p50.values.holdfast)}, p99 ${ms(p99.values.holdfast)}`,
  );
}

function waitMet(row: Row<RateColumn>): boolean {
  return (row.values.holdfast ?? Number.NaN) <= WAIT_P99;
}

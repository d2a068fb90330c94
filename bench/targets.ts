/**
 * The targets, checked against the result rows. Each checked row also gets its verdict
 * (✓/✗) in the table's last column.
 */
import { PROCESSES } from './contended.js';
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

class Checker {
  readonly targets: Target[] = [];
  readonly #rows: Row[];

  constructor(rows: Row[]) {
    this.#rows = rows;
  }

  /** The row whose measure starts with `prefix`; `verdict` is appended to its target column. */
  row(prefix: string, verdict: (row: Row) => string): Row {
    const index = this.#rows.findIndex((r) => r.measure.startsWith(prefix));
    const row = this.#rows[index];
    if (row === undefined) throw new Error(`no row "${prefix}"`);
    this.#rows[index] = { ...row, target: verdict(row) };
    return row;
  }

  add(text: string, met: boolean, detail: string): void {
    this.targets.push({ text, met, detail });
  }
}

/** Checks the targets; replaces the checked rows in `rows` by copies with a target column. */
export function checkTargets(rows: Row[]): Target[] {
  const check = new Checker(rows);

  const handoff = check.row('hand-off latency p50', (r) => {
    return `≤ 0.5 ms ${mark((r.values.holdfast ?? Number.NaN) <= 0.5)}, ≥ 10× ${mark(worst(r) >= 10)}`;
  });
  const p50 = handoff.values.holdfast ?? Number.NaN;
  check.add('hand-off p50 ≤ 0.5 ms', p50 <= 0.5, `holdfast p50 ${p50.toFixed(3)} ms`);
  check.add('hand-off p50 ≥ 10× faster than both peers', worst(handoff) >= 10, versusBoth(handoff));

  const label = `contended, ${PROCESSES} processes, 1 key: acquire wait p99`;
  const contended = check.row(label, (r) => `≥ 10× ${mark(worst(r) >= 10)}`);
  check.add('contended wait p99 ≥ 10× lower than both peers', worst(contended) >= 10, versusBoth(contended));

  for (const setting of ['hf autoExtend:false', 'hf defaults']) {
    const info = setting === 'hf defaults' ? ' (informational)' : '';
    for (const shape of ['1 client sequential', '64 keys in parallel']) {
      const row = check.row(`uncontended, ${shape} (${setting})`, (r) => `≥ 1.2× ${mark(worst(r) >= 1.2)}${info}`);
      const text = `uncontended throughput ≥ 1.2× the faster peer: ${shape}, ${setting}${info}`;
      check.add(text, worst(row) >= 1.2, `${fmt(worst(row))} the faster peer`);
    }
  }
  return check.targets;
}

/** The result table: one row per measure, the three libraries, holdfast's ratios, targets. */
import { LIBS, type LibName } from './libs.js';

export type Better = 'higher' | 'lower';

export interface Row {
  readonly measure: string;
  readonly unit: string;
  readonly better: Better;
  /** null: the library has no such primitive, or the measure does not apply. */
  readonly values: Readonly<Record<LibName, number | null>>;
  /** The target for this row with ✓/✗, shown in the last column. */
  readonly target?: string;
  /** Printed under the table, e.g. failure counts. */
  readonly notes?: Readonly<Partial<Record<LibName, string>>>;
}

export interface Target {
  readonly text: string;
  readonly met: boolean;
  /** What the target was checked against. */
  readonly detail: string;
}

/** holdfast's advantage over `peer`: > 1 means holdfast is better (faster, or less waiting). */
export function ratio(row: Row, peer: LibName): number | null {
  const hf = row.values.holdfast;
  const other = row.values[peer];
  if (hf === null || other === null || !Number.isFinite(hf) || !Number.isFinite(other)) return null;
  if (row.better === 'higher') return other === 0 ? Number.POSITIVE_INFINITY : hf / other;
  // A latency at or below zero (a take-over measured a hair before the TTL on the wall clock)
  // is floored at 1 µs so the ratio stays finite and meaningful.
  return Math.max(other, 0.001) / Math.max(hf, 0.001);
}

export function formatValue(value: number | null, unit: string): string {
  if (value === null) return 'n/a';
  if (Number.isNaN(value)) return '—';
  if (unit === 'ops/s') return Math.round(value).toLocaleString('en-US');
  if (unit === 'ms') return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(Math.abs(value) >= 10 ? 1 : 3);
  if (unit === 'µs') return value.toFixed(1);
  return String(value);
}

function formatRatio(value: number | null): string {
  if (value === null) return 'n/a';
  if (!Number.isFinite(value)) return '∞';
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2)}×`;
}

export function renderTable(rows: readonly Row[]): string {
  const header = ['measure', 'unit', ...LIBS, 'hf vs redlock', 'hf vs redis-sem', 'target'];
  const body = rows.map((row) => [
    row.measure,
    row.unit,
    ...LIBS.map((lib) => formatValue(row.values[lib], row.unit)),
    formatRatio(ratio(row, 'redlock')),
    formatRatio(ratio(row, 'redis-semaphore')),
    row.target ?? '',
  ]);
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((cells) => (cells[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i < 2 || i === cells.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join(' │ ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('─┼─');
  const notes = rows.flatMap((row) =>
    row.notes ? [`  ${row.measure}:`, ...LIBS.map((lib) => `    ${lib}: ${row.notes?.[lib] ?? '—'}`)] : [],
  );
  const legend = 'hf vs X: > 1 means holdfast is better (ops/s: holdfast ÷ X; ms: X ÷ holdfast)';
  return [line(header), rule, ...body.map(line), legend, '', 'notes:', ...notes].join('\n');
}

export function renderTargets(targets: readonly Target[]): string {
  return targets.map((t) => `  ${t.met ? '✓' : '✗'} ${t.text}  — ${t.detail}`).join('\n');
}

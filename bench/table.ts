/**
 * The result tables: one row per measure, one column per compared library (or setting),
 * holdfast's ratios to the peers, targets. The lock table compares holdfast with redlock and
 * redis-semaphore; the rate-limiter table with rate-limiter-flexible (see rate.ts). Both also
 * have an informational "holdfast://" column: holdfast on its embedded server (its own process)
 * instead of Redis, with no targets.
 */

/** The lock table's columns: the libraries on Redis, and holdfast on its embedded server. */
export const LOCK_COLUMNS = ['holdfast', 'holdfast://', 'redlock', 'redis-semaphore'] as const;
export type LockColumn = (typeof LOCK_COLUMNS)[number];

/** `f(column)` for every column. */
export function byColumn<C extends string, T>(columns: readonly C[], f: (column: C) => T): Record<C, T> {
  return Object.fromEntries(columns.map((column) => [column, f(column)])) as Record<C, T>;
}

/** `none`: no better direction a ratio could express (counts, ratios of counts at 0). */
export type Better = 'higher' | 'lower' | 'none';

export interface Row<C extends string = LockColumn> {
  readonly measure: string;
  readonly unit: string;
  readonly better: Better;
  /** null: the library has no such primitive, or the measure does not apply. */
  readonly values: Readonly<Record<C, number | null>>;
  /** The target for this row with ✓/✗, shown in the last column. */
  readonly target?: string;
  /** Printed under the table, e.g. failure counts. */
  readonly notes?: Readonly<Partial<Record<C, string>>>;
  /** For a `lower` row: values below this (the measurement's resolution) count as this in ratios. */
  readonly resolution?: number;
}

/** Which columns a table has, and which ratio columns (`of`'s advantage over `vs`). */
export interface Layout<C extends string> {
  readonly columns: readonly C[];
  readonly ratios: readonly { readonly label: string; readonly of: C; readonly vs: C }[];
  /** A column's header when it is not the column's name. */
  readonly headers?: Readonly<Partial<Record<C, string>>>;
}

export const LOCK_LAYOUT: Layout<LockColumn> = {
  columns: LOCK_COLUMNS,
  ratios: [
    { label: 'hf vs redlock', of: 'holdfast', vs: 'redlock' },
    { label: 'hf vs redis-sem', of: 'holdfast', vs: 'redis-semaphore' },
    { label: 'hf:// vs hf redis', of: 'holdfast://', vs: 'holdfast' },
  ],
  headers: { holdfast: 'holdfast (redis)' },
};

export interface Target {
  readonly text: string;
  readonly met: boolean;
  /** What the target was checked against. */
  readonly detail: string;
  /** What the machine allows at best for this measure (floors.ts), when that bounds the target. */
  readonly floor?: string;
}

/** `of`'s advantage over `vs`: > 1 means `of` is better (faster, or less waiting). */
export function ratio<C extends string>(row: Row<C>, vs: C, of: C = 'holdfast' as C): number | null {
  const hf = row.values[of];
  const other = row.values[vs];
  if (row.better === 'none') return null;
  if (hf === null || other === null || !Number.isFinite(hf) || !Number.isFinite(other)) return null;
  if (row.better === 'higher') return other === 0 ? Number.POSITIVE_INFINITY : hf / other;
  // A latency at or below zero (a take-over measured a hair before the TTL on the wall clock)
  // is floored at 1 µs (or the row's resolution) so the ratio stays finite and meaningful.
  const floor = row.resolution ?? 0.001;
  return Math.max(other, floor) / Math.max(hf, floor);
}

export function formatValue(value: number | null, unit: string): string {
  if (value === null) return 'n/a';
  if (Number.isNaN(value)) return '—';
  if (unit.endsWith('/s')) return Math.round(value).toLocaleString('en-US');
  if (unit === 'ms') return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(Math.abs(value) >= 10 ? 1 : 3);
  if (unit === 'µs') return value.toFixed(1);
  if (unit === 'bytes') return Math.round(value).toLocaleString('en-US');
  if (unit === 'min/max') return value.toFixed(2);
  return String(value);
}

function formatRatio(value: number | null): string {
  if (value === null) return 'n/a';
  if (!Number.isFinite(value)) return '∞';
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2)}×`;
}

export function renderTable<C extends string>(rows: readonly Row<C>[], layout: Layout<C>): string {
  const { columns, ratios } = layout;
  const name = (column: C): string => layout.headers?.[column] ?? column;
  const header = ['measure', 'unit', ...columns.map(name), ...ratios.map((r) => r.label), 'target'];
  const body = rows.map((row) => [
    row.measure,
    row.unit,
    ...columns.map((column) => formatValue(row.values[column], row.unit)),
    ...ratios.map((r) => formatRatio(ratio(row, r.vs, r.of))),
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
    row.notes
      ? [`  ${row.measure}:`, ...columns.map((column) => `    ${name(column)}: ${row.notes?.[column] ?? '—'}`)]
      : [],
  );
  const legend = `${ratios.map((r) => r.label).join(', ')}: > 1 means the first is better (per second: first ÷ second; ms: second ÷ first)`;
  return [line(header), rule, ...body.map(line), legend, ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

export function renderTargets(targets: readonly Target[]): string {
  return targets
    .flatMap((t) => [
      `  ${t.met ? '✓' : '✗'} ${t.text}  — ${t.detail}`,
      ...(t.floor === undefined ? [] : [`      floor here: ${t.floor}`]),
    ])
    .join('\n');
}

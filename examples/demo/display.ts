/**
 * The demo's progress display. On a terminal, a few live lines are redrawn in place (ANSI) under
 * the permanent output; elsewhere (CI, a pipe, a test) only plain progress lines are printed.
 */

/** Where the display writes: process.stdout, or anything with `write` (a test's buffer). */
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface DisplayOptions {
  /** Redraw live lines in place (default: when stdout is a terminal). */
  readonly live?: boolean;
  /** ANSI colours (default: on a terminal, unless NO_COLOR is set). */
  readonly color?: boolean;
  readonly out?: Output;
}

/** Starts an ANSI control sequence. */
const ESC = '\x1b[';
/** How often the live block is redrawn at most. */
const FRAME_MS = 80;

export class Display {
  readonly live: boolean;
  readonly color: boolean;
  readonly #out: Output;
  #lines: readonly string[] = [];
  #drawn = 0;
  #frame: NodeJS.Timeout | undefined;

  constructor(options: DisplayOptions = {}) {
    this.#out = options.out ?? process.stdout;
    const tty = this.#out.isTTY === true;
    this.live = options.live ?? tty;
    this.color = options.color ?? (tty && !process.env.NO_COLOR);
  }

  green(text: string): string {
    return this.#paint(32, text);
  }

  red(text: string): string {
    return this.#paint(31, text);
  }

  dim(text: string): string {
    return this.#paint(2, text);
  }

  bold(text: string): string {
    return this.#paint(1, text);
  }

  /** A permanent line (headings, summaries). */
  line(text = ''): void {
    this.#erase();
    this.#out.write(`${text}\n`);
    this.#draw();
  }

  /** A progress line: printed as it happens, indented, dim on a terminal. */
  note(text: string): void {
    this.line(`  ${this.dim(text)}`);
  }

  /** Replaces the live block (terminal only; plain output has the notes instead). */
  status(lines: readonly string[]): void {
    if (!this.live) return;
    this.#lines = lines;
    this.#frame ??= setTimeout(() => {
      this.#frame = undefined;
      this.#erase();
      this.#draw();
    }, FRAME_MS);
  }

  /** Removes the live block, e.g. before a scenario's summary. */
  clear(): void {
    clearTimeout(this.#frame);
    this.#frame = undefined;
    this.#erase();
    this.#lines = [];
  }

  #erase(): void {
    if (this.#drawn === 0) return;
    // To the start of the first live line, then clear to the end of the screen.
    this.#out.write(`\x1b[${this.#drawn}F\x1b[J`);
    this.#drawn = 0;
  }

  #draw(): void {
    if (!this.live || this.#lines.length === 0) return;
    const width = Math.max(20, (this.#out.columns || 100) - 1);
    // A wrapped line would take two rows and break the count of rows to erase.
    const rows = this.#lines.map((line) => fit(line, width));
    this.#out.write(`${rows.join('\n')}\n`);
    this.#drawn = rows.length;
  }

  #paint(code: number, text: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }
}

/** Cuts `line` to `width` visible characters, keeping ANSI sequences out of the count. */
function fit(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const end = line.startsWith(ESC, i) ? line.indexOf('m', i) : -1;
    if (end >= 0) {
      out += line.slice(i, end + 1);
      i = end;
      continue;
    }
    if (visible >= width) continue;
    out += line[i];
    visible++;
  }
  return out.includes(ESC) ? `${out}\x1b[0m` : out;
}

/** `■■■□□` for `used` of `total`. */
export function bar(used: number, total: number): string {
  return '■'.repeat(Math.max(0, Math.min(used, total))) + '□'.repeat(Math.max(0, total - used));
}

/** `1.2 s` or `340 ms`. */
export function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/** `1 decline`, `3 declines`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

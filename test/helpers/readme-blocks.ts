/**
 * The fenced code blocks of a Markdown file, with what test/readme.test.ts should do with each.
 *
 * A block may be preceded (blank lines allowed) by one visible marker:
 *   <!-- readme-test: compile-only: REASON -->   TypeScript that is type-checked but not run
 *   <!-- readme-test: skip: REASON -->           not executed at all (apt-get, a foreground server, …)
 * The reason is required: a reader of the README source sees why the block is not run.
 */

export type Marker =
  | { readonly kind: 'run' }
  | { readonly kind: 'compile-only'; readonly reason: string }
  | { readonly kind: 'skip'; readonly reason: string };

export interface Block {
  /** 1-based line of the opening fence; the code starts on the next line. */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
  readonly marker: Marker;
  /** A malformed marker or an unclosed fence: the block's test fails with this. */
  readonly problem?: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/;
const MARKER = /^<!--\s*readme-test:\s*(.*?)\s*-->$/;

export function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (!open) continue;
    const [, indent = '', fence = '```', lang = ''] = open;
    const start = i;
    const code: string[] = [];
    for (i++; i < lines.length && !(lines[i] as string).trimStart().startsWith(fence); i++) {
      code.push((lines[i] as string).slice(indent.length));
    }
    const { marker, problem } = markerBefore(lines, start);
    const unclosed = i >= lines.length ? `the fence opened on line ${start + 1} is never closed` : undefined;
    const block = { line: start + 1, lang: lang.toLowerCase(), code: `${code.join('\n')}\n`, marker };
    const issue = problem ?? unclosed;
    blocks.push(issue === undefined ? block : { ...block, problem: issue });
  }
  return blocks;
}

function markerBefore(lines: readonly string[], fenceIndex: number): { marker: Marker; problem?: string } {
  let j = fenceIndex - 1;
  while (j >= 0 && (lines[j] as string).trim() === '') j--;
  const text = MARKER.exec((lines[j] ?? '').trim())?.[1];
  if (text === undefined) return { marker: { kind: 'run' } };
  const parsed = /^(compile-only|skip)\s*:\s*(\S.*)$/.exec(text);
  if (!parsed) {
    return {
      marker: { kind: 'run' },
      problem: `line ${j + 1}: a marker is "<!-- readme-test: skip: REASON -->" or "<!-- readme-test: compile-only: REASON -->", got "${text}"`,
    };
  }
  return { marker: { kind: parsed[1] as 'compile-only' | 'skip', reason: parsed[2] as string } };
}

/** One doctor check's result, and how a report is printed. */
import { type Io, redact, toJson } from '../output.js';

export type Verdict = 'ok' | 'warn' | 'fail';

export interface Finding {
  /** Short name of the check: server, eviction, persistence, … */
  readonly check: string;
  readonly verdict: Verdict;
  /** What was found. */
  readonly detail: string;
  /** What to do about it (for warn and fail). */
  readonly advice?: string;
}

export const finding = (check: string, verdict: Verdict, detail: string, advice?: string): Finding =>
  advice === undefined ? { check, verdict, detail } : { check, verdict, detail, advice };

/** Prints the findings; resolves with the exit status: 1 when any check failed, else 0. */
export function report(io: Io, url: string, findings: readonly Finding[]): number {
  const count = (v: Verdict): number => findings.filter((f) => f.verdict === v).length;
  const failed = count('fail') > 0;
  if (io.json) {
    io.out(toJson({ url: redact(url), ok: !failed, checks: findings }));
    return failed ? 1 : 0;
  }
  io.out(`holdfast doctor ${redact(url)}`);
  const width = Math.max(...findings.map((f) => f.check.length));
  for (const f of findings) {
    const mark =
      f.verdict === 'ok'
        ? io.paint('green', 'ok  ')
        : f.verdict === 'warn'
          ? io.paint('yellow', 'warn')
          : io.paint('red', 'FAIL');
    io.out(`  ${mark}  ${f.check.padEnd(width)}  ${f.detail}`);
    if (f.advice !== undefined) io.out(`  ${' '.repeat(4 + width + 2)}  ${io.paint('dim', `→ ${f.advice}`)}`);
  }
  io.out(`${count('fail')} fail, ${count('warn')} warn, ${count('ok')} ok`);
  return failed ? 1 : 0;
}

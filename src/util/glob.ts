/**
 * Compiles a Redis-style glob (`*` any run, `?` one character, `\` escapes) to a RegExp, so
 * every backend matches `list` / `watch` patterns the same way Redis SCAN MATCH does.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  let escaped = false;
  for (const ch of pattern) {
    if (escaped) {
      source += escapeRegExp(ch);
      escaped = false;
    } else if (ch === '\\') escaped = true;
    else if (ch === '*') source += '[\\s\\S]*';
    else if (ch === '?') source += '[\\s\\S]';
    else source += escapeRegExp(ch);
  }
  if (escaped) source += escapeRegExp('\\');
  return new RegExp(`^${source}$`, 'u');
}

function escapeRegExp(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A glob that matches exactly `name` (its `*`, `?`, `[` and `\` taken literally). */
export function escapeGlob(name: string): string {
  return name.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * No import cycles in src/: a module graph with a cycle evaluates one module before what it
 * imports is ready (a TDZ error or a silent undefined), and shows parts that are not apart.
 * Type-only imports are erased by TypeScript and do not count.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src', import.meta.url));
// import/export … from '…', and dynamic import('…'); `import type` / `export type` are skipped.
const STATIC = /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Each module's value imports; an `import { type A, type B }` (all types) is erased too. */
function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const regex of [STATIC, DYNAMIC]) {
      for (const match of text.matchAll(regex)) {
        if (typeOnly(match[0])) continue;
        targets.push(resolve(dirname(file), (match[1] as string).replace(/\.js$/, '.ts')));
      }
    }
    edges.set(file, targets);
  }
  return edges;
}

/** `import { type A, type B } from …`: every name a type, so the import is erased. */
function typeOnly(statement: string): boolean {
  const names = /^\s*(?:import|export)\s*\{([^}]*)\}\s*from/.exec(statement)?.[1];
  if (names === undefined) return false;
  const list = names
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return list.length > 0 && list.every((name) => name.startsWith('type '));
}

/** Every cycle found by a depth-first search, each as the list of files around it. */
function cycles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return found;
}

it('src/ has no import cycles', () => {
  const edges = graph();
  assert.ok(edges.size > 50, 'the checker sees the source tree');
  const shown = cycles(edges).map((cycle) => cycle.map((file) => relative(SRC, file)).join(' → '));
  assert.deepEqual(shown, []);
});

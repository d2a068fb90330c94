// Build step after tsc: the Redis backend reads its Lua scripts at run time, relative to its
// own module, so they must sit beside the compiled code in dist/ as they sit beside it in src/.
import { cp, rm } from 'node:fs/promises';

const from = new URL('../src/backends/redis/scripts/', import.meta.url);
const to = new URL('../dist/backends/redis/scripts/', import.meta.url);

// Start clean, so a script deleted from src/ does not linger in dist/.
await rm(to, { recursive: true, force: true });
await cp(from, to, {
  recursive: true,
  filter: (source) => !/\.[^/\\]+$/.test(source) || source.endsWith('.lua'),
});
console.log(`copied Lua scripts to ${to.pathname}`);

/**
 * One process of the cross-process dog-pile test (test/cached-processes.test.ts):
 * `cache-caller.ts <url> <prefix> <key> <counterFile> <callers>`. It connects, says `ready`, and
 * on `go` starts <callers> concurrent `cached()` calls of <key> with the default store (the
 * backend's values). A computation appends one line to <counterFile> (the count the test checks
 * across processes), says `computing`, and returns only once the test says `finish`; then the
 * process reports every caller's value in `done` and exits.
 */
import { appendFile } from 'node:fs/promises';
import { connect } from '../../src/index.js';
import { cached } from '../../src/recipes/index.js';
import { nextMessage, report, runChild } from '../helpers/child.js';

const [url = '', prefix = '', key = '', counterFile = '', callers = '5'] = process.argv.slice(2);

runChild(async () => {
  const hf = await connect(url, { prefix });
  // Every computation of this process waits for the same word from the test.
  const finish = nextMessage('finish');
  await report({ type: 'ready' });
  await nextMessage('go');
  const compute = async (): Promise<{ report: string; by: number }> => {
    await appendFile(counterFile, `${process.pid}\n`);
    await report({ type: 'computing', pid: process.pid });
    await finish;
    return { report: 'expensive', by: process.pid };
  };
  const values = await Promise.all(
    Array.from({ length: Number(callers) }, () => cached(hf, key, compute, { ttl: 60_000 })),
  );
  await hf.close();
  await report({ type: 'done', values });
});

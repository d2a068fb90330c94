/**
 * `cached()` prevents a dog-pile across processes by default (issue 8, seed 003): 20 concurrent
 * callers in 4 processes (5 each), no `store` option, compute once. On Redis and holdfast://
 * the 4 are real child processes (test/recipes/cache-caller.ts) and the values live in the
 * backend (Redis keys under the client prefix; the server's value store); computations are
 * counted by appending to a file, so a second one anywhere would show. On memory:// a "process"
 * is a client of one shared MemoryStore (an in-process backend cannot span processes).
 * The compute is held open until the other 19 callers are queued on the lock, so every caller
 * really misses at once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type Holdfast, MemoryStore } from '../src/index.js';
import { cached } from '../src/recipes/index.js';
import { type Child, spawnChild } from './helpers/child.js';
import { waitFor, withTimeout } from './helpers/wait.js';
import { useRedisServer } from './helpers/world.js';
import { type ServerProcess, spawnServer } from './server/process.js';

const PROCESSES = 4;
const CALLERS = 5;
const CALLER = new URL('./recipes/cache-caller.ts', import.meta.url);

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-cached-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function computations(counter: string): Promise<number> {
  return (await readFile(counter, 'utf8')).split('\n').filter((line) => line !== '').length;
}

/** Waits until all but the computing caller queue on the lock of `key`. */
function allQueued(hf: Holdfast, key: string): Promise<void> {
  const others = PROCESSES * CALLERS - 1;
  return waitFor(async () => (await hf.inspect(`cache:${key}`))?.waiters.length === others, {
    timeout: 30_000,
    what: `${others} callers queued on cache:${key}`,
  });
}

/** 4 child processes × 5 callers on `url`; resolves with every value once all are done. */
async function dogPile(url: string): Promise<{ values: unknown[]; computed: number }> {
  const prefix = `pile-${randomBytes(4).toString('hex')}:`;
  const key = 'report';
  const counter = join(dir, `${prefix}count`);
  await writeFile(counter, '');
  const observer = await connect(url, { prefix });
  const children: Child[] = [];
  try {
    for (let i = 0; i < PROCESSES; i++) {
      children.push(await spawnChild(CALLER, [url, prefix, key, counter, String(CALLERS)]));
    }
    await Promise.all(children.map((child) => child.next('ready', 30_000)));
    for (const child of children) child.send({ type: 'go' });
    await allQueued(observer, key);
    for (const child of children) child.send({ type: 'finish' });
    const done = await Promise.all(
      children.map((child) => child.next<{ type: 'done'; values: unknown[] }>('done', 30_000)),
    );
    return { values: done.flatMap((d) => d.values), computed: await computations(counter) };
  } finally {
    await Promise.all(children.map((child) => child.kill()));
    await observer.close();
  }
}

function assertOnce(result: { values: unknown[]; computed: number }): void {
  assert.equal(result.computed, 1, 'computations across the 4 processes');
  assert.equal(result.values.length, PROCESSES * CALLERS);
  const [first] = result.values;
  assert.equal((first as { report?: string }).report, 'expensive');
  for (const value of result.values) assert.deepEqual(value, first, 'every caller got the one computed value');
}

describe('cached() computes once for 20 callers in 4 processes, without a store option', () => {
  describe('redis://', () => {
    const server = useRedisServer();
    it('values in Redis under the client prefix', async () => {
      assertOnce(await dogPile(server().url));
    });
  });

  describe('holdfast://', () => {
    let server: ServerProcess | undefined;
    before(async () => {
      server = await spawnServer();
    });
    after(async () => {
      server?.child.kill('SIGTERM');
      await server?.exited;
    });
    it('values in the server (a separate process)', async () => {
      assertOnce(await dogPile(`holdfast://127.0.0.1:${server?.port}`));
    });
  });

  it('memory:// (4 clients of one store stand for the 4 processes)', async () => {
    const store = new MemoryStore();
    const clients = await Promise.all(Array.from({ length: PROCESSES }, () => connect({ memory: store })));
    let computed = 0;
    let finish = (): void => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const compute = async (): Promise<{ report: string }> => {
      computed++;
      await finished;
      return { report: 'expensive' };
    };
    try {
      const calls = clients.flatMap((hf) =>
        Array.from({ length: CALLERS }, () => cached(hf, 'report', compute, { ttl: 60_000 })),
      );
      await allQueued(clients[0] as Holdfast, 'report');
      finish();
      const values = await withTimeout(Promise.all(calls), 10_000, 'every caller');
      assertOnce({ values, computed });
    } finally {
      await Promise.all(clients.map((hf) => hf.close()));
    }
  });
});

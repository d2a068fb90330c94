/**
 * `npm run demo`: the four seed scenarios, each played by real worker processes that share one
 * backend, each ending in a verified summary. Exits 0 only if every check held.
 *
 *   npm run demo                          the embedded holdfast server, started here on a free port
 *   npm run demo -- --redis redis://H:P   Redis instead (keys under a prefix of this run)
 *   npm run demo -- --quick               shortened (fewer tasks, calls and ticks)
 *   npm run demo -- --no-color            no ANSI colours (plain output is automatic off a terminal)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '../../src/index.js';
import { startServer } from '../../src/server/index.js';
import { contactCenter } from './contact-center/run.js';
import { cronAcrossInstances } from './cron/run.js';
import { Display, ms } from './display.js';
import { dogPile } from './dog-pile/run.js';
import { partnerApi } from './partner-api/run.js';
import type { Target } from './protocol.js';
import { crashed, type ScenarioContext, type ScenarioResult } from './scenario.js';
import { Hosts } from './workers.js';

const USAGE = 'usage: npm run demo -- [--redis redis://host:port] [--quick] [--no-color]';

/** Worker processes: as many as the largest scenario needs (3 agents + a task manager; 4 web processes). */
const WORKERS = 4;

const SCENARIOS: readonly {
  readonly title: string;
  readonly run: (ctx: ScenarioContext) => Promise<ScenarioResult>;
}[] = [
  {
    title: 'Contact center: agents, capacity, log-out, priorities, a manager driven by events (seeds 000/001)',
    run: contactCenter,
  },
  { title: 'Rate-limited partner API: 3 servers share "5 requests per 800 ms" (seed 002)', run: partnerApi },
  { title: 'Dog-pile: 20 concurrent requests for one cold cache key, cached() (seed 003)', run: dogPile },
  { title: 'Cron across instances: one run per tick, schedule() (seed 004)', run: cronAcrossInstances },
];

interface Backend {
  readonly target: Target;
  readonly banner: string;
  close(): Promise<void>;
}

async function embedded(): Promise<Backend> {
  const server = await startServer({ host: '127.0.0.1', port: 0 });
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-demo-'));
  const url = `holdfast://127.0.0.1:${server.port}`;
  return {
    target: { url, prefix: 'holdfast:', cache: { kind: 'file', dir } },
    banner: `embedded holdfast server on ${url}, started by this demo (its state is in memory, in this process)`,
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function redis(url: string): Promise<Backend> {
  const prefix = `holdfast-demo:${Date.now().toString(36)}-${randomBytes(3).toString('hex')}:`;
  // Fail early and clearly when Redis is not there, before any worker tries.
  const probe = await connect(url, { prefix, commandTimeout: 2000 });
  try {
    await probe.list('nothing-here');
  } finally {
    await probe.close();
  }
  return {
    target: { url, prefix, cache: { kind: 'redis', url, prefix: `${prefix}cache:` } },
    banner: `Redis at ${url.replace(/\/\/[^@/]*@/, '//***@')} (keys of this run under ${prefix})`,
    close: async () => {},
  };
}

async function main(argv: readonly string[]): Promise<number> {
  let values: { redis?: string | undefined; quick?: boolean | undefined; 'no-color'?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { redis: { type: 'string' }, quick: { type: 'boolean' }, 'no-color': { type: 'boolean' } },
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const display = new Display(values['no-color'] ? { color: false } : {});
  const quick = values.quick === true;
  let backend: Backend;
  try {
    backend = values.redis === undefined ? await embedded() : await redis(values.redis);
  } catch (error) {
    console.error(`demo: cannot start the backend: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  display.line(
    display.bold(`holdfast demo${quick ? ' (quick)' : ''}: the seed scenarios, each in real worker processes`),
  );
  display.line(`backend: ${backend.banner}`);
  const began = performance.now();
  const results: boolean[] = [];
  // The worker processes boot once, like machines; each scenario gives them roles.
  const hosts = new Hosts(backend.target, WORKERS);
  display.note(
    `${WORKERS} worker processes starting; in each scenario every one plays a role, with a client of its own`,
  );
  const booting = setInterval(() => display.status([`  ${hosts.booted}/${WORKERS} worker processes up`]), 100);
  try {
    await hosts.ready.finally(() => {
      clearInterval(booting);
      display.clear();
    });
    const ctx: ScenarioContext = { target: backend.target, hosts, display, quick };
    for (const [i, scenario] of SCENARIOS.entries()) {
      display.line();
      display.line(display.bold(`[${i + 1}/${SCENARIOS.length}] ${scenario.title}`));
      const started = performance.now();
      const result = await scenario.run(ctx).catch(crashed);
      const took = display.dim(`(${ms(performance.now() - started)})`);
      const mark = result.ok ? display.green('✓') : display.red('✗');
      display.line(`${mark} ${result.summary} ${took}`);
      for (const detail of result.details) display.line(`    ${detail.startsWith('✗') ? display.red(detail) : detail}`);
      results.push(result.ok);
    }
  } catch (error) {
    display.line(
      display.red(`✗ the worker processes did not start: ${error instanceof Error ? error.message : error}`),
    );
    results.push(false);
  } finally {
    await hosts.close();
    await backend.close();
  }
  const failed = results.filter((ok) => !ok).length;
  display.line();
  const took = ms(performance.now() - began);
  if (failed === 0) display.line(display.green(`all ${results.length} scenarios verified in ${took}`));
  else display.line(display.red(`${failed} of ${results.length} scenarios FAILED their checks (${took})`));
  return failed === 0 ? 0 : 1;
}

// Whatever happens, the demo ends: a stuck scenario fails it rather than hanging a CI job.
const watchdog = setTimeout(() => {
  console.error('demo: still running after 120 s, giving up');
  process.exit(1);
}, 120_000);
watchdog.unref();
process.once('SIGINT', () => process.exit(130));

process.exitCode = await main(process.argv.slice(2));

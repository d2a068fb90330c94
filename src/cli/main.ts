#!/usr/bin/env node
/**
 * `holdfast` — see, repair and use locks from a shell (seed 000's "restoring-state procedure").
 * A thin shell over the public API; one file per command in commands/. Exit status: 0 success,
 * 1 a backend failed or could not be reached (one line on stderr), 2 a usage mistake (one line
 * and the usage on stderr, before any connection is attempted); commands add their own.
 */
import { HoldfastError } from '../errors.js';
import { COMMON_HELP, parse, UsageError } from './args.js';
import type { Command } from './command.js';
import { version } from './version.js';

interface Entry {
  readonly name: string;
  /** One line for `holdfast --help`. */
  readonly summary: string;
  /**
   * Imported only when run: a cron line starting `holdfast lock` every minute should not pay
   * for ioredis and doctor's checks (about a third of a second on a loaded machine).
   */
  readonly load: () => Promise<Command>;
}

const COMMANDS: readonly Entry[] = [
  {
    name: 'ls',
    summary: 'ls [pattern]            names held or waited for',
    load: async () => (await import('./commands/ls.js')).ls,
  },
  {
    name: 'inspect',
    summary: 'inspect NAME            holders (fence, permits, time left, owner) and waiters',
    load: async () => (await import('./commands/inspect.js')).inspect,
  },
  {
    name: 'release',
    summary: 'release NAME            force-release NAME; its holders see their lease lost',
    load: async () => (await import('./commands/release.js')).release,
  },
  {
    name: 'lock',
    summary: 'lock NAME -- CMD ARGS…  run CMD while holding NAME (renewed; stopped if lost)',
    load: async () => (await import('./commands/lock.js')).lock,
  },
  {
    name: 'watch',
    summary: 'watch [pattern]         live lock events, one line each, until Ctrl-C',
    load: async () => (await import('./commands/watch.js')).watch,
  },
  {
    name: 'doctor',
    summary: 'doctor [URL]            check what breaks locks (eviction, persistence, ACL, clock…)',
    load: async () => (await import('./commands/doctor.js')).doctor,
  },
  {
    name: 'dashboard',
    summary: 'dashboard [URL]         a live web page of locks, waiters, rate limiters and events',
    load: async () => (await import('./commands/dashboard.js')).dashboard,
  },
];

const USAGE = `usage: holdfast <command> [options]     (holdfast <command> --help for its options)
${COMMANDS.map((c) => `  ${c.summary}`).join('\n')}
  server [options]        run the embedded lock server (holdfast server --help)
  --version               print the version
${COMMON_HELP}`;

/** Options that take a value, so the command name can be found after them (`--url X ls`). */
const VALUE_OPTIONS = new Set(['--url', '--prefix']);

/** The command and its argv (options given before the command name included). */
function route(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) return { name: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { name: undefined, rest: [...argv] };
}

async function main(argv: readonly string[]): Promise<number> {
  const { name, rest } = route(argv);
  if (name === 'server') return (await import('../server/main.js')).runServerCli(rest);
  if (name === undefined) {
    if (rest.includes('--version') || rest.includes('-V')) {
      process.stdout.write(`holdfast ${version()}\n`);
      return 0;
    }
    const { common } = parse(rest, { version: { type: 'boolean', short: 'V' } }, USAGE);
    if (common.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    throw new UsageError('a command is needed', USAGE);
  }
  if (name === 'help') {
    const topic = COMMANDS.find((c) => c.name === rest[0]);
    process.stdout.write(`${topic ? (await topic.load()).usage : USAGE}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry === undefined) throw new UsageError(`unknown command "${name}"`, USAGE);
  return (await entry.load()).run(rest);
}

/** One line, never a stack: usage mistakes add the usage; anything unexpected says it is a bug. */
function explain(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`holdfast: ${error.message}\n${error.usage}\n`);
    return 2;
  }
  if (error instanceof HoldfastError) {
    process.stderr.write(`holdfast: ${firstLine(error.message)}\n`);
    return error.code === 'VALIDATION' ? 2 : 1;
  }
  const detail = error instanceof Error ? error.message : String(error);
  process.stderr.write(`holdfast: unexpected error (a bug; please report it): ${firstLine(detail)}\n`);
  return 1;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

// `holdfast watch | head -3`: the reader went away, which ends the output, not in a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = explain(error);
  },
);

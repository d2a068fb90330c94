#!/usr/bin/env node
/**
 * `holdfast` — see and repair lock state (seed 000's "restoring-state procedure").
 * A thin shell over the public API: holdfast [--url URL] [--prefix P] ls [pattern] | inspect NAME | release NAME,
 * and `holdfast server` (the embedded lock server).
 */
import { parseArgs } from 'node:util';
import { connect, type Holdfast, HoldfastError } from '../index.js';
import { runServerCli } from '../server/main.js';

const USAGE = `usage: holdfast [--url URL] [--prefix P] <command>
  ls [pattern]       names held or waited for (glob, default *)
  inspect NAME       holders (fence, permits, expiresIn, owner) and waiters of NAME
  release NAME       force-release NAME whoever holds it; its holders see their lease lost
  server [--host H] [--port P] [--http-port P | --no-http] [--token T]
                     run the embedded lock server (state in memory, single node):
                     RESP on --port (7700), HTTP/JSON on --http-port (--port + 1)
URL defaults to $HOLDFAST_URL, else redis://127.0.0.1:6379`;

async function run(hf: Holdfast, command: string | undefined, arg: string | undefined): Promise<number> {
  switch (command) {
    case 'ls':
      for (const name of await hf.list(arg ?? '*')) console.log(name);
      return 0;
    case 'inspect': {
      const state = await hf.inspect(required(arg));
      console.log(state ? JSON.stringify(state, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) : 'free');
      return 0;
    }
    case 'release':
      console.log(`released ${await hf.forceRelease(required(arg))} holder(s)`);
      return 0;
    default:
      console.error(USAGE);
      return 2;
  }
}

function required(arg: string | undefined): string {
  if (arg === undefined) throw new HoldfastError('VALIDATION', `a NAME is needed\n${USAGE}`);
  return arg;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { url: { type: 'string' }, prefix: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return positionals.length === 0 && !values.help ? 2 : 0;
  }
  const url = values.url ?? process.env.HOLDFAST_URL ?? 'redis://127.0.0.1:6379';
  const hf = await connect(url, values.prefix === undefined ? {} : { prefix: values.prefix });
  try {
    return await run(hf, positionals[0], positionals[1]);
  } finally {
    await hf.close();
  }
}

// `holdfast server …` takes options of its own, so it is routed before the parsing above.
const [first, ...rest] = process.argv.slice(2);
(first === 'server' ? runServerCli(rest) : main()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof HoldfastError ? `holdfast: ${error.message}` : error);
    process.exitCode = 1;
  },
);

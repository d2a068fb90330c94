/**
 * The built `holdfast` binary: usage mistakes (one line + usage, exit 2, no connection
 * attempted), an unreachable backend (one line, exit 1), --version and --help, and ls, inspect,
 * release and watch against a real redis-server and a real holdfast server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { connect, type Holdfast, LeaseLostError } from '../src/index.js';
import { type RunningServer, startServer } from '../src/server/index.js';
import { buildCli, CLI, type CliResult, runCli, startCli } from './helpers/cli.js';
import { type RedisProcess, startRedis } from './helpers/redis-server.js';
import { aborted, withTimeout } from './helpers/wait.js';

/** Long enough that no lease expires while a CLI process starts on a loaded machine. */
const TTL = 30_000;

let redis: RedisProcess;
let server: RunningServer;
let serverUrl: string;

before(async () => {
  [redis, server] = await Promise.all([startRedis(), startServer({ port: 0, httpPort: 0 }), buildCli()]).then(
    ([r, s]) => [r, s] as const,
  );
  serverUrl = `holdfast://127.0.0.1:${server.port}`;
});

after(async () => {
  await Promise.all([redis?.stop(), server?.close()]);
});

/** Exit 2, one line naming the mistake, then the usage; never a stack trace. */
function assertUsage(result: CliResult, mistake: RegExp): void {
  assert.equal(result.code, 2, result.stderr);
  const [first, second] = result.stderr.split('\n');
  assert.match(first ?? '', mistake);
  assert.match(first ?? '', /^holdfast: /);
  assert.match(second ?? '', /^usage: holdfast/);
  assert.doesNotMatch(result.stderr, /\n\s+at |TypeError|ERR_PARSE_ARGS/);
  assert.equal(result.stdout, '');
}

describe('usage', () => {
  /** A TCP listener that counts connections: proof that a mistake connects to nothing. */
  let listener: Server;
  let connections = 0;
  let url: string;

  before(async () => {
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const address = listener.address();
    url = `holdfast://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  after(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  const mistakes: [string[], RegExp][] = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['ls', '--bogus'], /Unknown option '--bogus'/],
    [['--bogus', 'ls'], /Unknown option '--bogus'/],
    [['inspect'], /a NAME is needed/],
    [['inspect', 'a', 'b'], /unexpected argument "b"/],
    [['release'], /a NAME is needed/],
    [['lock', 'job'], /a command to run is needed/],
    [['lock', 'job', '--ttl', 'soon', '--', 'true'], /--ttl takes a whole number of ms/],
    [['lock', 'job', '--permits', '2', '--', 'true'], /--permits needs --limit/],
    [['lock', 'job', '--limit', '2', '--permits', '3', '--', 'true'], /--permits 3 is more than --limit 2/],
    [['watch', 'a', 'b'], /unexpected argument "b"/],
    [['doctor', '--frob'], /Unknown option '--frob'/],
    [[], /a command is needed/],
    [['inspect', 'x'.repeat(600)], /name is 600 bytes; the limit is 512/],
    [['lock', '', '--', 'true'], /name must not be empty/],
    [['ls', ''], /pattern must not be empty/],
  ];
  for (const args of [
    ['ls', '--url', 'redis://127.0.0.1:notaport'],
    ['doctor', 'redis://127.0.0.1:notaport'],
    ['inspect', 'x', '--url', 'ftp://127.0.0.1'],
  ]) {
    it(`holdfast ${args.join(' ')}: a bad URL is one line, exit 2`, async () => {
      const result = await runCli(args);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^holdfast: (invalid|unsupported) URL "[^"]+".*\n$/);
    });
  }
  for (const [args, mistake] of mistakes) {
    it(`holdfast ${args.join(' ') || '(nothing)'}: one line + usage, exit 2, no connection`, async () => {
      assertUsage(await runCli(['--url', url, ...args]), mistake);
      assert.equal(connections, 0, 'a usage mistake must not connect');
    });
  }

  it('--version prints the package version; --help and COMMAND --help print usage on stdout, exit 0', async () => {
    const { version } = (await import('../package.json', { with: { type: 'json' } })).default;
    const printed = await runCli(['--version']);
    assert.equal(printed.code, 0);
    assert.equal(printed.stdout, `holdfast ${version}\n`);
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['ls', 'inspect', 'release', 'lock', 'watch', 'doctor', 'server']) {
      assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
    }
    for (const command of ['lock', 'watch', 'doctor']) {
      const own = await runCli([command, '--help']);
      assert.equal(own.code, 0);
      assert.match(own.stdout, new RegExp(`^usage: holdfast ${command} `));
    }
    assert.equal(connections, 0);
  });
});

it('colours on a terminal only (script(1) gives it one), and never with NO_COLOR', async () => {
  const command = `${process.execPath} ${CLI} inspect nothing:held --url ${redis.url}`;
  const onTty = await promisify(execFile)('script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, NO_COLOR: '' },
  });
  assert.ok(onTty.stdout.includes('\u001b[32mfree\u001b[39m'), JSON.stringify(onTty.stdout));
  const noColor = await promisify(execFile)('script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  assert.match(noColor.stdout, /nothing:held: free/);
  assert.ok(!noColor.stdout.includes('\u001b['));
  const piped = await runCli(['inspect', 'nothing:held', '--url', redis.url]);
  assert.equal(piped.stdout, 'nothing:held: free\n');
});

describe('an unreachable backend', () => {
  for (const scheme of ['redis', 'holdfast']) {
    it(`${scheme}://: one line on stderr, exit 1`, async () => {
      const dead = await startRedis();
      await dead.stop(); // a port that was just free and now refuses
      const result = await runCli(['ls', '--url', `${scheme}://127.0.0.1:${dead.port}`]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^holdfast: .*127\\.0\\.0\\.1:${dead.port}.*ECONNREFUSED.*\\n$`));
      assert.equal(result.stderr.split('\n').length, 2, 'exactly one line');
    });
  }
});

for (const backend of ['redis', 'holdfast'] as const) {
  describe(`ls, inspect, release, watch on ${backend}://`, () => {
    let url: string;
    let hf: Holdfast;
    const cli = (...args: string[]) => runCli([...args, '--url', url, '--prefix', 'cli:']);

    before(async () => {
      url = backend === 'redis' ? redis.url : serverUrl;
      hf = await connect(url, { prefix: 'cli:' });
    });

    after(() => hf.close());

    it('lists and inspects a held lock, force-releases it, and the holder learns it lost', async () => {
      const lease = await hf.mutex('agent:7', { ttl: TTL, owner: { worker: 7 } }).acquire();
      const ls = await cli('ls', 'agent:*');
      assert.equal(ls.stdout, 'agent:7\n');
      assert.deepEqual(JSON.parse((await cli('ls', '--json')).stdout), ['agent:7']);
      const text = (await cli('inspect', 'agent:7')).stdout;
      assert.match(text, /^agent:7: mutex, 1\/1 permits in use\n/);
      assert.match(
        text,
        new RegExp(`holder  fence ${lease.fence}  permits 1  expires in [\\d.]+ s  owner \\{"worker":7\\}`),
      );
      const state = JSON.parse((await cli('inspect', 'agent:7', '--json')).stdout);
      assert.equal(state.holders[0].fence, lease.fence.toString());
      const released = await cli('release', 'agent:7');
      assert.equal(released.stdout, 'released 1 holder of agent:7\n');
      const reason = await withTimeout(aborted(lease.signal), TTL, 'lease loss after force-release');
      assert.ok(reason instanceof LeaseLostError);
      assert.equal((await cli('inspect', 'agent:7')).stdout, 'agent:7: free\n');
      assert.equal((await cli('inspect', 'agent:7', '--json')).stdout, 'null\n');
      assert.deepEqual(JSON.parse((await cli('release', 'agent:7', '--json')).stdout), {
        name: 'agent:7',
        released: 0,
      });
    });

    it('watch whose reader goes away (holdfast watch | head) ends quietly, exit 0', async () => {
      const watching = startCli(['watch', 'pipe:*', '--url', url, '--prefix', 'cli:']);
      await watching.waitFor(/^holdfast watch: watching/, 'stderr');
      watching.child.stdout?.destroy();
      for (let i = 0; i < 3 && watching.child.exitCode === null; i++) {
        await (await hf.mutex('pipe:1', { ttl: TTL }).acquire()).release();
      }
      const result = await watching.done;
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /EPIPE|\n\s+at /);
    });

    it('watch prints one line per event (JSON lines with --json) until SIGINT, then exits 0', async () => {
      const text = startCli(['watch', 'job:*', '--url', url, '--prefix', 'cli:']);
      const json = startCli(['watch', 'job:*', '--json', '--url', url, '--prefix', 'cli:']);
      await Promise.all([text, json].map((w) => w.waitFor(/^holdfast watch: watching job:\*/, 'stderr')));
      const lease = await hf.mutex('job:1', { ttl: TTL }).acquire();
      await hf
        .mutex('other', { ttl: TTL })
        .acquire()
        .then((l) => l.release());
      await lease.release();
      await text.waitFor(/ released /);
      const line = await json.waitFor(/"type":"released"/);
      for (const w of [text, json]) w.child.kill('SIGINT');
      const [textDone, jsonDone] = await Promise.all([text.done, json.done]);
      assert.equal(textDone.code, 0, textDone.stderr);
      assert.equal(jsonDone.code, 0, jsonDone.stderr);
      const lines = textDone.stdout.trim().split('\n');
      assert.equal(lines.length, 2, 'acquired and released of job:1, nothing about "other"');
      assert.match(lines[0] ?? '', new RegExp(`^\\S+Z  acquired +mutex +job:1  fence ${lease.fence}  ttl ${TTL} ms$`));
      assert.match(lines[1] ?? '', new RegExp(`^\\S+Z  released +mutex +job:1  fence ${lease.fence}$`));
      assert.ok(!textDone.stdout.includes('\u001b['), 'no colours when stdout is not a terminal');
      const event = JSON.parse(line);
      assert.equal(event.name, 'job:1');
      assert.equal(event.fence, lease.fence.toString());
      assert.equal(jsonDone.stdout.trim().split('\n').length, 2);
    });
  });
}

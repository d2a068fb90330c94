/** `holdfast doctor [URL]`: the starting conditions that break locks, each with a verdict. */
import { resolveTarget } from '../../backends/registry.js';
import { COMMON_HELP, parse, positionalsAtMost } from '../args.js';
import { type Command, help } from '../command.js';
import type { Finding } from '../doctor/finding.js';
import { report } from '../doctor/finding.js';
import { genericChecks } from '../doctor/generic.js';
import { redisChecks } from '../doctor/redis.js';
import { memoryChecks, serverInfoChecks } from '../doctor/server.js';
import { makeIo } from '../output.js';

const USAGE = `usage: holdfast doctor [URL] [--json]
  Checks what breaks locks before it does, each with a verdict (ok, warn, FAIL) and what to do:
  Redis: server version, an evicting maxmemory-policy, persistence, replicas and failover,
  cluster slot coverage, round-trip latency and clock skew, ACL permissions for every command
  holdfast sends or its scripts call. holdfast:// and memory://: the checks that apply, and a
  lock round trip. Exit status 0 when nothing failed, 1 otherwise (warnings do not fail).
  URL defaults to --url, $HOLDFAST_URL, else holdfast://127.0.0.1:7700.
${COMMON_HELP}`;

export const doctor: Command = {
  usage: USAGE,
  async run(argv) {
    const { positionals, common } = parse(argv, {}, USAGE);
    if (common.help) return help(USAGE);
    positionalsAtMost(positionals, 1, USAGE);
    const url = positionals[0] ?? common.url;
    resolveTarget(url); // a malformed URL or unknown scheme: ValidationError, exit 2, nothing sent
    const prefix = common.prefix ?? 'holdfast:';
    const io = makeIo(common);
    return report(io, url, await checksFor(url, prefix));
  },
};

function checksFor(url: string, prefix: string): Promise<Finding[]> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'redis' || scheme === 'rediss') return redisChecks(url, prefix);
  if (scheme === 'holdfast') return genericChecks(url, prefix, () => serverInfoChecks(url));
  if (scheme === 'memory') return genericChecks(url, prefix, () => memoryChecks());
  return genericChecks(url, prefix, () => Promise.resolve([]));
}

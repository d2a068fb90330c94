/**
 * Whether the connected ACL user may run what holdfast sends: the commands the client sends
 * itself (on its keys and channels, under the prefix) and those its Lua scripts call. ACL
 * DRYRUN (Redis 7) answers for each without running it; a user not allowed DRYRUN is probed
 * with the client-side commands themselves, harmlessly, and the in-script ones stay unchecked.
 */
import type { Redis } from 'ioredis';
import { type Finding, finding } from './finding.js';
import { message } from './redis-info.js';

/** Each as [command, ...args], with KEY / CHANNEL standing for a key or channel under the prefix. */
const CLIENT_COMMANDS: readonly (readonly string[])[] = [
  ['EVALSHA', '0000000000000000000000000000000000000000', '1', 'KEY'],
  ['EVAL', 'return 1', '1', 'KEY'],
  ['SCRIPT', 'LOAD', 'return 1'],
  ['SCAN', '0'],
  ['TIME'],
  ['INFO', 'memory'],
  ['SUBSCRIBE', 'CHANNEL'],
];
/** What the Lua scripts call (src/backends/redis/scripts), checked by DRYRUN only. */
const SCRIPT_COMMANDS: readonly (readonly string[])[] = [
  ...['DEL', 'EXISTS', 'ZCARD'].map((c) => [c, 'KEY']),
  ...['HDEL', 'HGET', 'HMGET'].map((c) => [c, 'KEY', 'f']),
  ['HSET', 'KEY', 'f', 'v'],
  ['HINCRBY', 'KEY', 'f', '1'],
  ['PEXPIRE', 'KEY', '1000'],
  ['ZADD', 'KEY', '1', 'm'],
  ['ZRANGE', 'KEY', '0', '-1'],
  ['ZRANGEBYSCORE', 'KEY', '0', '1'],
  ['ZRANK', 'KEY', 'm'],
  ['ZREM', 'KEY', 'm'],
  ['ZREMRANGEBYSCORE', 'KEY', '0', '1'],
  ['ZSCORE', 'KEY', 'm'],
  ['PUBLISH', 'CHANNEL', 'x'],
  ['PUBSUB', 'NUMSUB', 'CHANNEL'],
];

export async function aclCheck(client: Redis, prefix: string): Promise<Finding> {
  let user: string;
  try {
    user = String(await client.call('ACL', 'WHOAMI'));
  } catch (error) {
    if (/unknown command/i.test(message(error))) return finding('acl', 'ok', 'no ACLs on this server (before Redis 6)');
    user = '?';
  }
  const fill = (args: readonly string[]): string[] =>
    args.map((a) => a.replace('KEY', `${prefix}doctor:probe`).replace('CHANNEL', `${prefix}doctor:probe`));
  // What watch('*') subscribes to. Redis matches a PSUBSCRIBE pattern literally against the
  // user's channel rules, so &holdfast:* does not allow it.
  const watchPattern = ['PSUBSCRIBE', `${prefix}ev:*`];
  const denied = { commands: [] as string[], keys: false };
  const deny = (command: readonly string[], why: string): void => {
    // "no permissions to access the '…' key / channel" vs "… to run the '…' command".
    if (/ key| channel/i.test(why)) denied.keys = true;
    else denied.commands.push(command[0] as string);
  };
  const all = [...CLIENT_COMMANDS, ...SCRIPT_COMMANDS];
  const dryRun = user === '?' ? null : await tryDryRun(client, user, fill(all[0] ?? []));
  let watchDenied: boolean;
  if (dryRun !== null) {
    for (const command of all) {
      const verdict = await tryDryRun(client, user, fill(command));
      if (verdict !== null && /permission/i.test(verdict)) deny(command, verdict);
    }
    watchDenied = /permission/i.test((await tryDryRun(client, user, watchPattern)) ?? '');
  } else {
    for (const command of CLIENT_COMMANDS) {
      const why = await deniedLive(client, fill(command));
      if (why !== null) deny(command, why);
    }
    watchDenied = (await deniedLive(client, watchPattern)) !== null;
  }
  const scope = `on ${prefix}* keys and channels`;
  if (denied.commands.length > 0 || denied.keys) {
    const what = [
      ...(denied.commands.length > 0 ? [`may not run ${denied.commands.join(', ')}`] : []),
      ...(denied.keys ? [`may not access ${prefix}* keys or channels`] : []),
    ];
    const grant = denied.commands.map((c) => `+${c.toLowerCase()}`).join(' ');
    return finding(
      'acl',
      'fail',
      `user ${user} ${what.join(' and ')}`,
      `ACL SETUSER ${user}${grant ? ` ${grant}` : ''} ~${prefix}* &${prefix}*`,
    );
  }
  if (watchDenied) {
    return finding(
      'acl',
      'warn',
      `user ${user} may lock ${scope}, but not PSUBSCRIBE ${prefix}ev:*: watch() and holdfast watch fail (Redis matches PSUBSCRIBE patterns literally against channel rules)`,
      `ACL SETUSER ${user} allchannels, or &${prefix}ev:* (and one &${prefix}ev:<pattern> per other pattern watched)`,
    );
  }
  if (dryRun === null) {
    return finding(
      'acl',
      'warn',
      `user ${user} may run the commands holdfast sends ${scope}; the ${SCRIPT_COMMANDS.length} its scripts call were not checked (ACL DRYRUN not permitted)`,
      'run holdfast doctor as an admin to check them, or compare with ACL GETUSER',
    );
  }
  return finding('acl', 'ok', `user ${user} may run every command holdfast needs ${scope}`);
}

/** 'OK', a denial text, or null when DRYRUN itself cannot be used (not permitted, Redis 6). */
async function tryDryRun(client: Redis, user: string, command: readonly string[]): Promise<string | null> {
  try {
    return String(await client.call('ACL', 'DRYRUN', user, ...command));
  } catch (error) {
    const text = message(error);
    // Redis answers a denied command with an error from 7.2 on, a bulk string before.
    return /^NOPERM.*(ACL|dryrun)/i.test(text) || /unknown|syntax/i.test(text) ? null : text;
  }
}

/** Runs the command for real (harmless forms only); the NOPERM text, or null when allowed. */
async function deniedLive(client: Redis, command: readonly string[]): Promise<string | null> {
  const [name, ...args] = command as [string, ...string[]];
  const connection = name.endsWith('SUBSCRIBE') ? client.duplicate() : client;
  try {
    await connection.call(name, ...args);
    return null;
  } catch (error) {
    return /^NOPERM/.test(message(error)) ? message(error) : null;
  } finally {
    if (connection !== client) connection.disconnect();
  }
}

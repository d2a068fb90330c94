/**
 * Doctor checks read from Redis's INFO (and CONFIG where allowed): the server's version, an
 * eviction policy that can delete lock keys, persistence, replication and cluster slots.
 */
import type { Redis } from 'ioredis';
import { evicts } from '../../backends/redis/eviction.js';
import { type Finding, finding } from './finding.js';

export type Info = ReadonlyMap<string, string>;

export function parseInfo(text: string): Info {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return fields;
}

export function serverCheck(info: Info): Finding {
  const valkey = info.get('valkey_version');
  const version = valkey ?? info.get('redis_version') ?? '?';
  const what = `${valkey ? 'Valkey' : 'Redis'} ${version} (${info.get('redis_mode') ?? 'standalone'})`;
  // The scripts call TIME before writing, which needs effects replication: the default from 5.0.
  if (!valkey && Number(version.split('.')[0]) < 5) {
    return finding('server', 'fail', `${what}: too old`, 'holdfast needs Redis 5 or later (Lua effects replication)');
  }
  return finding('server', 'ok', what);
}

export function evictionCheck(info: Info): Finding {
  const policy = info.get('maxmemory_policy');
  const maxmemory = Number(info.get('maxmemory') ?? 0);
  if (policy === undefined)
    return finding(
      'eviction',
      'warn',
      'maxmemory_policy not in INFO memory',
      'check it with CONFIG GET maxmemory-policy',
    );
  if (evicts(policy)) {
    const limit =
      maxmemory > 0 ? `maxmemory ${maxmemory} bytes` : 'no maxmemory set yet, but one can be set at run time';
    return finding(
      'eviction',
      'fail',
      `maxmemory-policy ${policy} (${limit}): Redis may evict lock keys (each has a TTL), and a held lock would vanish`,
      'CONFIG SET maxmemory-policy noeviction (and set it in redis.conf); connect() refuses this Redis unless { allowEviction: true }',
    );
  }
  const full = maxmemory > 0 ? `; at maxmemory (${maxmemory} bytes) writes fail with OOM, and so do acquires` : '';
  return finding('eviction', 'ok', `maxmemory-policy ${policy}: lock keys are never evicted${full}`);
}

export async function persistenceCheck(client: Redis, info: Info): Promise<Finding> {
  if (info.get('aof_enabled') === '1') {
    const fsync = await configGet(client, 'appendfsync');
    const loss = fsync === 'always' ? 'none' : fsync === 'no' ? 'what the OS had not flushed' : 'up to 1 s';
    return finding('persistence', 'ok', `AOF on (appendfsync ${fsync ?? '?'}): a crash loses ${loss} of grants`);
  }
  const save = await configGet(client, 'save');
  const fences = 'fences still rise after a restart (seeded from the server clock)';
  if (save === undefined) {
    return finding(
      'persistence',
      'warn',
      `AOF off; RDB snapshot schedule unknown (CONFIG GET not permitted); ${fences}`,
      'appendonly yes keeps grants across a restart',
    );
  }
  if (save !== '') {
    return finding(
      'persistence',
      'warn',
      `RDB snapshots only (save ${save}): a crash loses the grants since the last snapshot, and a lock can be granted twice; ${fences}`,
      'appendonly yes (appendfsync everysec) narrows that to about 1 s; fence what locks protect',
    );
  }
  return finding(
    'persistence',
    'warn',
    `off: a restart empties every lock and queue (holders learn at their next renewal); ${fences}`,
    'appendonly yes if locks must survive a restart; either way, fence what locks protect',
  );
}

export function replicationCheck(info: Info): Finding {
  const role = info.get('role');
  if (role === 'slave' || role === 'replica') {
    const primary = `${info.get('master_host') ?? '?'}:${info.get('master_port') ?? '?'}`;
    return finding(
      'replication',
      'fail',
      `a replica of ${primary} (link ${info.get('master_link_status') ?? '?'}): it refuses the writes every acquire makes`,
      `connect to the primary (${primary}), or through Sentinel so a failover is followed`,
    );
  }
  const replicas = Number(info.get('connected_slaves') ?? 0);
  if (replicas === 0) {
    return finding(
      'replication',
      'ok',
      'primary, no replicas: no failover can grant a lock twice (none takes over either)',
    );
  }
  return finding(
    'replication',
    'warn',
    `primary with ${replicas} replica${replicas === 1 ? '' : 's'}: replication is asynchronous, so after a failover the new primary may lack a lock just granted and grant it again`,
    'fence what locks protect; min-replicas-to-write narrows the window; Redlock over independent masters closes it',
  );
}

export async function clusterCheck(client: Redis, info: Info): Promise<Finding> {
  if (info.get('cluster_enabled') !== '1') return finding('cluster', 'ok', 'not in cluster mode');
  let fields: Info;
  try {
    fields = parseInfo(String(await client.call('CLUSTER', 'INFO')));
  } catch (error) {
    return finding(
      'cluster',
      'warn',
      `cluster mode, but CLUSTER INFO failed: ${message(error)}`,
      'run CLUSTER INFO as an admin',
    );
  }
  const assigned = Number(fields.get('cluster_slots_assigned') ?? 0);
  const ok = Number(fields.get('cluster_slots_ok') ?? 0);
  const state = fields.get('cluster_state') ?? '?';
  const detail = `cluster_state ${state}, ${ok}/16384 slots ok, ${assigned} assigned`;
  if (state !== 'ok' || ok < 16384) {
    return finding(
      'cluster',
      'fail',
      `${detail}: names hashing to uncovered slots cannot be locked`,
      'assign every slot (redis-cli --cluster fix) and bring failed nodes back',
    );
  }
  return finding('cluster', 'ok', `${detail}; connect with { cluster: [...] } so every node is reached`);
}

async function configGet(client: Redis, key: string): Promise<string | undefined> {
  try {
    const reply = (await client.config('GET', key)) as string[];
    return reply[1];
  } catch {
    return undefined;
  }
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

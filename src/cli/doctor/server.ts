/** What `holdfast doctor` adds for the embedded server (holdfast://) and for memory://. */
import { Redis } from 'ioredis';
import { type Finding, finding } from './finding.js';
import { message } from './redis-info.js';

/** The server's name and version from HELLO (it speaks RESP, so a Redis client can ask). */
export async function serverInfoChecks(url: string): Promise<Finding[]> {
  const { hostname, port, username, password } = new URL(url);
  const token = decodeURIComponent(password || username);
  const client = new Redis({
    host: hostname.replace(/^\[|\]$/g, ''),
    port: Number(port || 7700),
    ...(token ? { password: token } : {}),
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3000,
    commandTimeout: 3000,
  });
  client.on('error', () => {});
  let server: Finding;
  try {
    await client.connect();
    const reply = (await client.call('HELLO')) as unknown[];
    const field = (key: string): string => String(reply[reply.indexOf(key) + 1] ?? '?');
    server = finding('server', 'ok', `${field('server')} protocol ${field('version')} (${field('mode')})`);
  } catch (error) {
    server = finding('server', 'warn', `HELLO failed: ${message(error)}`);
  } finally {
    client.disconnect();
  }
  return [
    server,
    finding(
      'persistence',
      'warn',
      'state is in memory on one node: a server restart drops every lock, queue and rate limiter; fences keep rising (seeded from the clock), so fenced writes by stale holders are still refused',
      'fence what locks protect; for durability or failover, use Redis (redis://)',
    ),
    finding(
      'replication',
      'ok',
      'single node: no replicas, so no failover can grant a lock twice (and none takes over while it is down)',
    ),
  ];
}

export function memoryChecks(): Promise<Finding[]> {
  return Promise.resolve([
    finding(
      'scope',
      'warn',
      'memory:// lives inside one process: locks taken here are invisible to every other process',
      'use it for tests and single-process programs; holdfast:// or redis:// for anything shared',
    ),
  ]);
}

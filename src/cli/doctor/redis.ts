/** `holdfast doctor redis://…`: every check, read straight from Redis with its own connection. */
import { Redis } from 'ioredis';
import { latencyCheck, localNow, type Sample, skewCheck } from './clock.js';
import { type Finding, finding } from './finding.js';
import { aclCheck } from './redis-acl.js';
import {
  clusterCheck,
  evictionCheck,
  message,
  parseInfo,
  persistenceCheck,
  replicationCheck,
  serverCheck,
} from './redis-info.js';

const TIMEOUT = 3000;
const SAMPLES = 7;

export async function redisChecks(url: string, prefix: string): Promise<Finding[]> {
  // One attempt, no retries, no offline queue: a doctor reports an unreachable server at once.
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: TIMEOUT,
    commandTimeout: TIMEOUT,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // connect() rejects with "Connection is closed."; the error event says why.
  let why: unknown;
  client.on('error', (error: unknown) => {
    why ??= error;
  });
  const { host, port } = client.options;
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    why ??= error;
    return [
      finding(
        'reach',
        'fail',
        `cannot reach Redis at ${host}:${port}: ${message(why)}`,
        'start it, or check --url (and credentials)',
      ),
    ];
  }
  try {
    return await checks(client, prefix);
  } finally {
    client.disconnect();
  }
}

async function checks(client: Redis, prefix: string): Promise<Finding[]> {
  let info: ReadonlyMap<string, string>;
  try {
    info = parseInfo(await client.info());
  } catch (error) {
    return [
      finding('info', 'fail', `INFO refused: ${message(error)}`, 'holdfast reads INFO memory at connect; allow +info'),
      await aclCheck(client, prefix),
    ];
  }
  const samples = await clockSamples(client);
  return [
    serverCheck(info),
    evictionCheck(info),
    await persistenceCheck(client, info),
    replicationCheck(info),
    await clusterCheck(client, info),
    latencyCheck(samples.map((s) => s.received - s.sent)),
    skewCheck(samples, 'Redis TIME'),
    await aclCheck(client, prefix),
  ];
}

async function clockSamples(client: Redis): Promise<Sample[]> {
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < SAMPLES; i++) {
      const sent = localNow();
      const [sec, usec] = (await client.time()) as [string | number, string | number];
      const received = localNow();
      samples.push({ sent, received, remote: Number(sec) * 1000 + Number(usec) / 1000 });
    }
  } catch {
    // TIME refused (the acl check names it): latency and clock say they were not measured.
  }
  return samples;
}

/**
 * Starts a throw-away etcd cluster (Debian's `etcd-server`) on free loopback ports, with its own
 * data dirs, for the etcd suites: 3 members by default (1 for quick tests). Members are stopped
 * by PID; a test can kill or restart one, find the leader, restart the whole cluster from its
 * data dirs, or partition one member through the peer proxies every member's peers reach it by.
 * A missing binary is an error, never a skip.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeerProxy } from './peer-proxy.js';
import { freePort } from './redis-server.js';

export interface EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  /** `127.0.0.1:port`, as it goes into an `etcd://` URL. */
  readonly endpoint: string;
  /** PID of the current process, or null while stopped. */
  readonly pid: number | null;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** `etcd://host:port,host:port,…` for every member. */
  readonly url: string;
  /** Index of the member that leads now (waits until one does). */
  leader(): Promise<number>;
  /** SIGKILL one member (a crash); its data dir stays. */
  kill(index: number): Promise<void>;
  /** Starts a stopped member again from its data dir, and waits until it is healthy. */
  start(index: number): Promise<void>;
  /** Cuts one member off from the others, both ways, until `heal()`. */
  partition(index: number): Promise<void>;
  heal(): void;
  /** SIGTERMs every member, then starts them all again from their data dirs. */
  restart(): Promise<void>;
  /** Stops every member and removes the data dirs. */
  close(): Promise<void>;
}

const READY_TIMEOUT = 30_000;

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  output(): string;
}

const alive = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

class Member implements EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly proxy: PeerProxy | null;
  readonly dataDir: string;
  running: Running | null = null;
  /** With TLS, health and status are read from a plain metrics listener instead. */
  tls: { readonly certFile: string; readonly keyFile: string; readonly metricsPort: number } | null = null;

  constructor(name: string, clientPort: number, peerPort: number, proxy: PeerProxy | null, dataDir: string) {
    this.name = name;
    this.clientPort = clientPort;
    this.peerPort = peerPort;
    this.proxy = proxy;
    this.dataDir = dataDir;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  /** Where the other members reach this one: its proxy, if any. */
  get peerUrl(): string {
    return `http://127.0.0.1:${this.proxy?.port ?? this.peerPort}`;
  }

  get pid(): number | null {
    return this.running?.child.pid ?? null;
  }

  async halt(signal: NodeJS.Signals): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = null;
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill(signal);
    running.child.ref(); // keep the event loop alive until the exit is seen
    await running.exited;
  }
}

/** Where data dirs go: memory when the machine has it (fsync on a shared disk is slow). */
function dataRoot(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

export interface EtcdClusterOptions {
  /** Members (default 3). */
  readonly size?: number;
  /**
   * Route peer traffic through a proxy per member, so `partition()` works (default true). The
   * proxies run in this process: the bench turns them off to measure etcd, not the proxy.
   */
  readonly partitionable?: boolean;
  /** Serve clients over TLS with this certificate and key (PEM files); the URL is then etcds://. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

/** Starts of a cluster whose free ports were taken by another process before etcd bound them. */
const START_ATTEMPTS = 3;

export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      // A free port is only free until someone binds it: on a busy machine another test can.
      const taken = error instanceof Error && /address already in use/.test(error.message);
      if (!taken || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

async function startOnce(options: EtcdClusterOptions): Promise<EtcdCluster> {
  const { size = 3, partitionable = true, tls } = options;
  const token = `holdfast-${randomBytes(6).toString('hex')}`;
  const root = await mkdtemp(join(dataRoot(), 'holdfast-etcd-'));
  const members: Member[] = [];
  for (let i = 0; i < size; i++) {
    const peerPort = await freePort();
    const proxy = partitionable ? await PeerProxy.start(peerPort) : null;
    const member = new Member(`m${i}`, await freePort(), peerPort, proxy, join(root, `m${i}`));
    if (tls) member.tls = { ...tls, metricsPort: await freePort() };
    members.push(member);
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const launchAll = async (): Promise<void> => {
    await Promise.all(members.map((m) => launch(m, initialCluster, token)));
    await Promise.all(members.map((m) => waitHealthy(m)));
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.halt('SIGTERM')));
    await Promise.all(members.map((m) => m.proxy?.close()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    await launchAll();
  } catch (error) {
    // The members that did start would outlive the test and keep its process from exiting.
    await stopAll();
    throw error;
  }
  const cluster: EtcdCluster = {
    members,
    url: `${tls ? 'etcds' : 'etcd'}://${members.map((m) => m.endpoint).join(',')}`,
    leader: () => leaderOf(members),
    kill: (index) => memberAt(members, index).halt('SIGKILL'),
    async start(index) {
      const member = memberAt(members, index);
      if (member.running) return;
      await launch(member, initialCluster, token);
      await waitHealthy(member);
    },
    async partition(index) {
      const isolated = memberAt(members, index);
      const id = await memberId(isolated);
      for (const member of members) {
        if (!member.proxy) throw new Error('this cluster was started with partitionable: false');
        member.proxy.block(member === isolated ? 'all' : new Set([id]));
      }
    },
    heal() {
      for (const member of members) member.proxy?.heal();
    },
    async restart() {
      await Promise.all(members.map((m) => m.halt('SIGTERM')));
      await launchAll();
    },
    close: stopAll,
  };
  return cluster;
}

function memberAt(members: readonly Member[], index: number): Member {
  const member = members[index];
  if (!member) throw new Error(`no etcd member ${index}`);
  return member;
}

async function launch(member: Member, initialCluster: string, token: string): Promise<void> {
  const peer = member.peerUrl;
  const client = `${member.tls ? 'https' : 'http'}://${member.endpoint}`;
  const args = [
    ['--name', member.name],
    ['--data-dir', member.dataDir],
    ['--listen-client-urls', client],
    ['--advertise-client-urls', client],
    ['--listen-peer-urls', `http://127.0.0.1:${member.peerPort}`],
    ['--initial-advertise-peer-urls', peer],
    ['--initial-cluster', initialCluster],
    ['--initial-cluster-token', token],
    ['--initial-cluster-state', 'new'],
    // A member cut off must not depose the leader when it comes back with a higher term.
    ['--pre-vote=true'],
    ...(member.tls
      ? [
          ['--cert-file', member.tls.certFile],
          ['--key-file', member.tls.keyFile],
          ['--listen-metrics-urls', `http://127.0.0.1:${member.tls.metricsPort}`],
        ]
      : []),
    ['--logger', 'zap'],
    ['--log-level', 'error'],
  ].flat();
  const child = spawn('etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const collect = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      alive.delete(child);
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (error: NodeJS.ErrnoException) => {
      const hint = 'install it (`apt-get install -y etcd-server`); the etcd tests fail without it';
      reject(error.code === 'ENOENT' ? new Error(`etcd not found on PATH: ${hint}`) : error);
    });
  });
  alive.add(child);
  member.running = { child, exited, output: () => tail };
}

/** Resolves once the member reports healthy (it has a leader); rejects if it exits or never does. */
async function waitHealthy(member: Member): Promise<void> {
  const running = member.running;
  if (!running) throw new Error(`etcd member ${member.name} is not running`);
  let gone = false;
  void running.exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + READY_TIMEOUT;
  while (!gone && Date.now() < deadline) {
    const health = await gateway<{ health?: string }>(member, 'GET', '/health').catch(() => null);
    if (health?.health === 'true') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `etcd member ${member.name} ${gone ? 'exited during start-up' : 'never became healthy'}:\n${running.output()}`,
  );
}

interface Status {
  readonly header?: { readonly member_id?: string };
  readonly leader?: string;
}

/** A call to the member's JSON gateway (the harness needs no etcd client of its own). */
async function gateway<T>(member: Member, method: 'GET' | 'POST', path: string): Promise<T> {
  const base = member.tls ? `127.0.0.1:${member.tls.metricsPort}` : member.endpoint;
  const response = await fetch(`http://${base}${path}`, {
    method,
    ...(method === 'POST' ? { body: '{}' } : {}),
    signal: AbortSignal.timeout(2000),
  });
  return (await response.json()) as T;
}

/** The member's id as etcd's peer transport writes it (hex). */
async function memberId(member: Member): Promise<string> {
  const status = await gateway<Status>(member, 'POST', '/v3/maintenance/status');
  const id = status.header?.member_id;
  if (!id) throw new Error(`etcd member ${member.name} did not say its id`);
  return BigInt(id).toString(16);
}

async function leaderOf(members: readonly Member[]): Promise<number> {
  const deadline = Date.now() + READY_TIMEOUT;
  while (Date.now() < deadline) {
    for (const member of members) {
      if (!member.running) continue;
      const status = await gateway<Status>(member, 'POST', '/v3/maintenance/status').catch(() => null);
      if (status?.leader !== undefined && status.leader === status.header?.member_id) return members.indexOf(member);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no etcd member leads');
}

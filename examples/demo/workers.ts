/**
 * The demo's worker processes, parent side. A few real Node processes (`node --import tsx
 * host.ts`) start once, like machines; in each scenario every one of them takes on a role (an
 * agent, a server, an instance…) with a client of its own, connected to the backend by itself,
 * and talks to the demo over the IPC channel in plain JSON objects with a `type`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Message, RoleName, Target } from './protocol.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOST = fileURLToPath(new URL('./host.ts', import.meta.url));
/** How long a role may take to wind down after `stop` before its process is killed. */
const STOP_GRACE_MS = 3000;

export interface RoleSpec {
  /** Shown in the display and in errors, e.g. `agent anna`. */
  readonly name: string;
  readonly role: RoleName;
  readonly config: unknown;
}

export interface Worker {
  readonly name: string;
  readonly pid: number;
  send(message: Message): void;
}

type Handler = (worker: Worker, message: Message) => void;

interface Host {
  readonly child: ChildProcess;
  /** Where this host's messages go: the crew it works for now. */
  listener: ((message: Message) => void) | null;
  /** Tells the crew it works for that it died. */
  onExit: ((why: string) => void) | null;
  output: string;
}

/** Every process still running, so that the demo never leaves one behind, even on a crash. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class Hosts {
  /** Resolves once every process has booted; rejects if one dies first. */
  readonly ready: Promise<void>;
  readonly #hosts: Host[];
  readonly #target: Target;
  #booted = 0;

  constructor(target: Target, count: number) {
    this.#target = target;
    this.#hosts = Array.from({ length: count }, () => this.#spawn());
    this.ready = Promise.all(
      this.#hosts.map(
        (host, i) =>
          new Promise<void>((resolve, reject) => {
            host.listener = (m) => {
              if (m.type !== 'booted') return;
              this.#booted++;
              host.listener = null;
              resolve();
            };
            host.onExit = (why) => reject(new Error(`worker process ${i + 1} ${why}`));
          }),
      ),
    ).then(() => {});
    this.ready.catch(() => {});
  }

  get size(): number {
    return this.#hosts.length;
  }

  /** Processes booted so far. */
  get booted(): number {
    return this.#booted;
  }

  /** Gives each role to a process of its own (the first `roles.length` processes). */
  crew(roles: readonly RoleSpec[], onMessage: Handler): Crew {
    if (roles.length > this.#hosts.length) throw new Error(`${roles.length} roles for ${this.#hosts.length} processes`);
    return new Crew(this.#target, this.#hosts.slice(0, roles.length), roles, onMessage);
  }

  /** Ends every process (the IPC channel closes; each exits on its own, or is killed). */
  async close(): Promise<void> {
    await Promise.all(
      this.#hosts.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  #spawn(): Host {
    const child = fork(HOST, [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    running.add(child);
    const host: Host = { child, listener: null, onExit: null, output: '' };
    const collect = (chunk: Buffer): void => {
      host.output = (host.output + chunk.toString()).slice(-2000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('message', (message) => host.listener?.(message as Message));
    child.once('error', (error) => host.onExit?.(`failed: ${error.message}`));
    child.once('exit', (code, signal) => {
      running.delete(child);
      host.onExit?.(`exited (${signal ?? `code ${code}`})\n${host.output.trim()}`);
    });
    return host;
  }
}

/** The processes of one scenario, each in its role. */
export class Crew {
  readonly workers: readonly Worker[];
  /** Rejects when a worker reports an error or its process dies. */
  readonly failure: Promise<never>;
  readonly #hosts: readonly Host[];
  readonly #seen = new Map<string, number>();
  readonly #waits: { type: string; count: number; resolve: () => void }[] = [];
  #fail!: (error: Error) => void;

  constructor(target: Target, hosts: readonly Host[], roles: readonly RoleSpec[], onMessage: Handler) {
    this.failure = new Promise<never>((_, reject) => {
      this.#fail = reject;
    });
    this.failure.catch(() => {});
    this.#hosts = hosts;
    this.workers = roles.map((spec, i) => {
      const host = hosts[i] as Host;
      const worker: Worker = {
        name: spec.name,
        pid: host.child.pid ?? -1,
        send: (message) => {
          if (host.child.connected) host.child.send(message);
        },
      };
      host.onExit = (why) => this.#fail(new Error(`${spec.name} (pid ${worker.pid}) ${why}`));
      host.listener = (message) => {
        if (message.type === 'error') {
          this.#fail(new Error(`${spec.name}: ${String(message.message)}\n${host.output.trim()}`));
          return;
        }
        this.#count(message.type);
        onMessage(worker, message);
      };
      worker.send({ type: 'role', role: spec.role, name: spec.name, target, config: spec.config });
      return worker;
    });
  }

  /** Resolves once `count` messages of `type` arrived (from any workers); rejects on failure. */
  waitFor(type: string, count = this.workers.length): Promise<void> {
    if ((this.#seen.get(type) ?? 0) >= count) return Promise.resolve();
    return Promise.race([new Promise<void>((resolve) => this.#waits.push({ type, count, resolve })), this.failure]);
  }

  broadcast(message: Message): void {
    for (const worker of this.workers) worker.send(message);
  }

  /** Ends every role (each closes its client); a process that does not in time is killed. */
  async stop(): Promise<void> {
    this.broadcast({ type: 'stop' });
    const stopped = this.waitFor('stopped').catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
    });
    if (await Promise.race([stopped.then(() => false), late])) {
      for (const host of this.#hosts) host.child.kill('SIGKILL');
    }
    clearTimeout(timer);
    for (const host of this.#hosts) {
      host.listener = null;
      host.onExit = null;
    }
  }

  #count(type: string): void {
    const seen = (this.#seen.get(type) ?? 0) + 1;
    this.#seen.set(type, seen);
    for (const wait of [...this.#waits]) {
      if (wait.type === type && seen >= wait.count) {
        this.#waits.splice(this.#waits.indexOf(wait), 1);
        wait.resolve();
      }
    }
  }
}

/** Runs `crew`'s part of a scenario: `work` settles, or a worker fails, or time runs out. */
export async function within<T>(crew: Crew, ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, crew.failure, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

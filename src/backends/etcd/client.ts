/**
 * Loads the `etcd3` package (an optional peer dependency: only users of etcd URLs install it)
 * and opens clients on a parsed target: one on every member, and one per member for leader
 * affinity (./leader.ts).
 */
import { readFile } from 'node:fs/promises';
import type { Etcd3, IOptions } from 'etcd3';
import { BackendError } from '../../errors.js';
import type { EtcdTarget } from './url.js';

type Etcd3Module = typeof import('etcd3');

/** The etcd3 package, or an error that says how to install it. */
async function loadEtcd3(): Promise<Etcd3Module> {
  try {
    return await import('etcd3');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new BackendError('the etcd backend needs the "etcd3" package: npm install etcd3', { cause: error });
    }
    throw error;
  }
}

/** What ./index.ts builds the backend from. */
export interface EtcdClients {
  /** On every member of the URL: etcd3 picks one per call, and moves on when one fails. */
  readonly any: Etcd3;
  /** One on each member alone, in the URL's order (none for a one-member URL). */
  readonly members: readonly Etcd3[];
  /** etcd3's test for an error that means a member could not be reached. */
  readonly recoverable: (error: unknown) => boolean;
}

export async function openClients(target: EtcdTarget, timeout: number): Promise<EtcdClients> {
  const { isRecoverableError } = await loadEtcd3();
  const open = (hosts: readonly string[]): Promise<Etcd3> => openClient({ ...target, hosts }, timeout);
  const any = await open(target.hosts);
  const members = target.hosts.length > 1 ? await Promise.all(target.hosts.map((host) => open([host]))) : [];
  return { any, members, recoverable: (error) => isRecoverableError(error as Error) };
}

export async function openClient(target: EtcdTarget, timeout: number): Promise<Etcd3> {
  const { Etcd3: Client } = await loadEtcd3();
  const options: IOptions = {
    hosts: [...target.hosts],
    // One deadline per call; streams (watch, keep-alive) live on.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
    ...(target.auth ? { auth: { username: target.auth.username, password: target.auth.password } } : {}),
  };
  if (target.ca !== null) {
    const rootCertificate = await readFile(target.ca).catch((error: unknown) => {
      throw new BackendError(`reading the etcd CA file ${target.ca} failed`, { cause: error });
    });
    return new Client({ ...options, credentials: { rootCertificate } });
  }
  return new Client(options);
}

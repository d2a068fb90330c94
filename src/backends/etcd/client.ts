/**
 * Loads the `etcd3` package (an optional peer dependency: only users of etcd URLs install it)
 * and opens a client on a parsed target.
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

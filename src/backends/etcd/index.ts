/**
 * The etcd backend (`etcd://`, `etcds://`): see ./backend.ts. Loaded by connect() only for
 * those schemes; it loads the optional `etcd3` package in turn.
 */
import type { Backend, BackendContext } from '../../backend.js';
import { ValidationError } from '../../errors.js';
import { commandTimeoutOf } from '../options.js';
import type { ConnectTarget, OpenOptions } from '../registry.js';
import { EtcdBackend } from './backend.js';
import { openClient } from './client.js';
import { EtcdRpc } from './rpc.js';
import { parseEtcdUrl } from './url.js';

export async function open(target: ConnectTarget, context: BackendContext, options: OpenOptions): Promise<Backend> {
  if (typeof target !== 'string') throw new ValidationError('the etcd backend takes an etcd:// or etcds:// URL');
  const parsed = parseEtcdUrl(target);
  const timeout = commandTimeoutOf(options);
  const client = await openClient(parsed, timeout);
  const rpc = new EtcdRpc(client);
  try {
    // Fails fast, naming the hosts, instead of at the first lock.
    await rpc.range(Buffer.from(context.prefix), undefined, `connecting to etcd at ${parsed.hosts.join(',')}`, true);
  } catch (error) {
    client.close();
    throw error;
  }
  return new EtcdBackend(rpc, context, timeout, () => client.close());
}

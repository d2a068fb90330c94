/**
 * The etcd backend (`etcd://`, `etcds://`): see ./backend.ts. Loaded by connect() only for
 * those schemes; it loads the optional `etcd3` package in turn.
 */
import type { Backend, BackendContext } from '../../backend.js';
import { ValidationError } from '../../errors.js';
import { commandTimeoutOf } from '../options.js';
import type { ConnectTarget, OpenOptions } from '../registry.js';
import { EtcdBackend } from './backend.js';
import { openClients } from './client.js';
import { idleKey } from './keys.js';
import { Leader } from './leader.js';
import { EtcdRpc } from './rpc.js';
import { parseEtcdUrl } from './url.js';

export async function open(target: ConnectTarget, context: BackendContext, options: OpenOptions): Promise<Backend> {
  if (typeof target !== 'string') throw new ValidationError('the etcd backend takes an etcd:// or etcds:// URL');
  const parsed = parseEtcdUrl(target);
  const timeout = commandTimeoutOf(options);
  const { any, members, recoverable } = await openClients(parsed, timeout);
  const leader = members.length > 0 ? new Leader(members, recoverable) : null;
  const close = (): void => {
    leader?.close();
    any.close();
  };
  const rpc = new EtcdRpc(any, leader, idleKey(context.prefix));
  try {
    // Fails fast, naming the hosts, instead of at the first lock; the first lock goes to the leader.
    const what = `connecting to etcd at ${parsed.hosts.join(',')}`;
    await Promise.all([rpc.range(Buffer.from(context.prefix), undefined, what, true), leader?.start()]);
  } catch (error) {
    close();
    throw error;
  }
  return new EtcdBackend(rpc, context, timeout, close);
}

/** The holdfast:// backend module (a client of a holdfast server), loaded through the registry. */
import type { Backend, BackendContext } from '../../backend.js';
import type { ConnectTarget, OpenOptions } from '../registry.js';
import { createServerBackend } from './backend.js';

export { createServerBackend, type ServerBackendOptions } from './backend.js';

/** `holdfast://[token@]host[:port]`. */
export async function open(target: ConnectTarget, context: BackendContext, options: OpenOptions): Promise<Backend> {
  const timeout = options.commandTimeout === undefined ? {} : { commandTimeout: options.commandTimeout };
  return createServerBackend(target as string, context, timeout);
}

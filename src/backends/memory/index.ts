/** The memory:// backend module, loaded by connect() through the registry. */
import type { Backend, BackendContext } from '../../backend.js';
import { ValidationError } from '../../errors.js';
import { type Clock, realClock } from '../../util/clock.js';
import type { ConnectTarget, OpenOptions } from '../registry.js';
import { MemoryBackend } from './backend.js';
import { MemoryStore } from './store.js';

export { MemoryBackend, type MemoryBackendOptions } from './backend.js';
export { MemoryStore } from './store.js';

/** `memory://` (a store of this client's own) or `{ memory: store }` (shared by its clients). */
export async function open(target: ConnectTarget, context: BackendContext, options: OpenOptions): Promise<Backend> {
  const store =
    typeof target === 'string' ? new MemoryStore({ clock: clock(target, options) }) : sharedStore(target, options);
  return new MemoryBackend(store, context);
}

/** The store's clock: leases are counted on the same clock as the store's expiries. */
export function clock(target: ConnectTarget, options: OpenOptions): Clock {
  return typeof target === 'string' ? (options.clock ?? realClock) : sharedStore(target, options).clock;
}

function sharedStore(target: ConnectTarget, options: OpenOptions): MemoryStore {
  const store = (target as { memory?: unknown }).memory;
  if (!(store instanceof MemoryStore)) throw new ValidationError('{ memory } must be a MemoryStore');
  if (options.clock !== undefined && options.clock !== store.clock) {
    throw new ValidationError('a shared MemoryStore already has its clock; pass it to the store');
  }
  return store;
}

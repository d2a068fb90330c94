/**
 * What the server serves: the backend of each namespace, opened the way `connect()` opens one
 * (src/backends/registry.ts, which loads a backend's module only when it is used). By default
 * `memory://`: a store of its own per namespace, kept for the server's life (it is the state);
 * with `--backend URL` any backend `connect()` knows, shared with direct clients of that backend
 * under the same prefix.
 */
import type { Backend, BackendContext } from '../backend.js';
import type { MemoryStore } from '../backends/memory/store.js';
import { resolveTarget } from '../backends/registry.js';

/** Tests: one in-process store serving every namespace (the names of all namespaces meet in it). */
export interface ServedStore {
  readonly memory: MemoryStore;
}

export interface BackendSource {
  /** The URL served, as given (it may hold a password: see `shownUrl` before printing it). */
  readonly url: string;
  /** The state lives in this process: a namespace, once opened, is kept until the server stops. */
  readonly inProcess: boolean;
  /** Opens the backend of one namespace (a `connect()` prefix). */
  open(prefix: string, context: BackendContext): Promise<Backend>;
}

export const MEMORY_URL = 'memory://';

/** The source for `url` (default: in-process memory); a URL no backend takes is refused before any I/O. */
export function backendSource(target: string | ServedStore = MEMORY_URL): BackendSource {
  const entry = resolveTarget(target);
  return {
    url: typeof target === 'string' ? target : MEMORY_URL,
    inProcess: entry.keys.includes('memory'),
    async open(_prefix, context) {
      const module = await entry.load();
      return module.open(target, context, {});
    },
  };
}

/** A backend URL as it may be shown: without its password. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

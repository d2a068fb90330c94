/** What the demo and its worker processes say to each other (IPC, plain JSON). */

export interface Message {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** Where the shared cache of the dog-pile scenario lives. */
export type CacheTarget =
  | { readonly kind: 'redis'; readonly url: string; readonly prefix: string }
  | { readonly kind: 'file'; readonly dir: string };

/** The backend every process of one demo run connects to. */
export interface Target {
  /** `holdfast://127.0.0.1:PORT` (the embedded server) or a `redis://` URL. */
  readonly url: string;
  /** Key prefix of this run, so runs on one Redis never see each other's names. */
  readonly prefix: string;
  readonly cache: CacheTarget;
}

/** What a worker process can be in a scenario (see roles.ts). */
export type RoleName = 'agent' | 'manager' | 'server' | 'web' | 'instance';

/**
 * `connect({ sentinel: { name, sentinels: ['redis://host:port', …] } })`: a primary with replicas
 * that Redis Sentinel fails over; or the same as one URL (`sentinelTargetOfUrl`). The target is
 * checked here, before any I/O.
 */
import { ValidationError } from '../../errors.js';
import { checkName, checkOptions, optional } from '../../util/validate.js';

export interface SentinelOptions {
  /** The name the sentinels monitor the primary under (`sentinel monitor <name> …`). */
  readonly name: string;
  /** redis://host:port of one or more sentinels (more are learnt from them). */
  readonly sentinels: readonly string[];
  /** The primary's and replicas' ACL user, when not `default`. */
  readonly username?: string;
  /** The primary's and replicas' password (`requirepass` / ACL). */
  readonly password?: string;
  /** The sentinels' own password (`requirepass` in sentinel.conf), when they have one. */
  readonly sentinelPassword?: string;
  /** The database number on the primary (default 0). */
  readonly db?: number;
}

export interface SentinelTarget {
  readonly sentinel: SentinelOptions;
}

export interface SentinelSettings {
  readonly name: string;
  readonly sentinels: readonly { readonly host: string; readonly port: number }[];
  readonly username?: string;
  readonly password?: string;
  readonly sentinelPassword?: string;
  readonly db?: number;
}

const KEYS = ['name', 'sentinels', 'username', 'password', 'sentinelPassword', 'db'] as const;
const MAX_SENTINELS = 32;
const DEFAULT_SENTINEL_PORT = 26379;

export function parseSentinelTarget(target: unknown): SentinelSettings {
  const outer = checkOptions<SentinelTarget>(target, ['sentinel'], '{ sentinel } target');
  const raw = checkOptions<SentinelOptions>(outer.sentinel, KEYS, '{ sentinel }');
  const name = checkName(raw.name, '{ sentinel } name');
  const list = raw.sentinels;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SENTINELS) {
    throw new ValidationError(`{ sentinel } sentinels must be an array of 1 to ${MAX_SENTINELS} redis:// URLs`);
  }
  const sentinels = list.map(endpointOf);
  const seen = new Set<string>();
  for (const { host, port } of sentinels) {
    const address = `${host}:${port}`;
    if (seen.has(address)) throw new ValidationError(`{ sentinel } lists the sentinel ${address} twice`);
    seen.add(address);
  }
  const text = (value: unknown, what: string): string => {
    if (typeof value !== 'string' || value === '')
      throw new ValidationError(`{ sentinel } ${what} must be a non-empty string`);
    return value;
  };
  const username = optional(raw.username, (v) => text(v, 'username'));
  const password = optional(raw.password, (v) => text(v, 'password'));
  const sentinelPassword = optional(raw.sentinelPassword, (v) => text(v, 'sentinelPassword'));
  const db = optional(raw.db, (v) => {
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 65_535) {
      throw new ValidationError(`{ sentinel } db must be an integer from 0, got ${String(v)}`);
    }
    return v as number;
  });
  return {
    name,
    sentinels,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
    ...(db === undefined ? {} : { db }),
  };
}

function endpointOf(url: unknown): { host: string; port: number } {
  const shown = JSON.stringify(String(url).slice(0, 64));
  if (typeof url !== 'string') throw new ValidationError(`{ sentinel } sentinels must be redis:// URLs, got ${shown}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(`{ sentinel } sentinel ${shown} is not a URL: expected redis://host:port`);
  }
  if (parsed.protocol !== 'redis:') {
    throw new ValidationError(`{ sentinel } sentinels must be redis://host:port URLs, got ${parsed.protocol}//`);
  }
  if (parsed.hostname === '') throw new ValidationError(`{ sentinel } sentinel ${shown} names no host`);
  if (parsed.username !== '' || parsed.password !== '') {
    throw new ValidationError(`{ sentinel } sentinel ${shown} carries credentials: give sentinelPassword instead`);
  }
  if ((parsed.pathname !== '' && parsed.pathname !== '/') || parsed.search !== '') {
    throw new ValidationError(`{ sentinel } sentinel ${shown} has a path or query: expected redis://host:port`);
  }
  const port = parsed.port === '' ? DEFAULT_SENTINEL_PORT : Number(parsed.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new ValidationError(`{ sentinel } sentinel ${shown}: port ${parsed.port} is not in 1-65535`);
  }
  // IPv6 hosts come in brackets, which sockets do not want.
  // WHATWG URL keeps a non-special scheme's host as written: DNS names are case-insensitive.
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase(), port };
}

const URL_QUERY_KEYS = ['db', 'sentinelPassword'] as const;

/**
 * `redis-sentinel://[user:password@]host[:port][,host[:port]…]/NAME[?db=N&sentinelPassword=S]`:
 * the `{ sentinel }` target as one URL string, for the CLI's `--url` and for configuration that
 * holds a single string. The hosts are the sentinels (port 26379 when none is given), NAME the
 * primary they monitor; the credentials are the primary's, as in `{ sentinel }`. Throws
 * ValidationError; the result is checked again by `parseSentinelTarget`.
 */
export function sentinelTargetOfUrl(url: string): SentinelTarget {
  const shown = JSON.stringify(url.slice(0, 64));
  const match = /^redis-sentinel:\/\/(?:([^@/]*)@)?([^/?#]+)\/([^/?#]+)\/?(?:\?([^#]*))?$/i.exec(url);
  if (!match) {
    throw new ValidationError(
      `invalid URL ${shown}: expected redis-sentinel://[user:password@]host:port[,host:port…]/NAME[?db=N]`,
    );
  }
  const [, auth, hosts = '', rawName = '', query = ''] = match;
  const decode = (text: string, what: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw new ValidationError(`invalid URL ${shown}: its ${what} is not valid percent-encoding`);
    }
  };
  const sentinel: Record<string, unknown> = {
    name: decode(rawName, 'name'),
    sentinels: hosts.split(',').map((host) => `redis://${host}`),
  };
  if (auth !== undefined) {
    const colon = auth.indexOf(':');
    const user = colon === -1 ? auth : auth.slice(0, colon);
    if (user !== '') sentinel.username = decode(user, 'user');
    if (colon !== -1) sentinel.password = decode(auth.slice(colon + 1), 'password');
  }
  for (const [key, value] of new URLSearchParams(query)) {
    if (!(URL_QUERY_KEYS as readonly string[]).includes(key)) {
      throw new ValidationError(
        `invalid URL ${shown}: unknown parameter "${key}" (known: ${URL_QUERY_KEYS.join(', ')})`,
      );
    }
    sentinel[key] = key === 'db' ? (/^\d{1,5}$/.test(value) ? Number(value) : Number.NaN) : value;
  }
  const target = { sentinel } as unknown as SentinelTarget;
  parseSentinelTarget(target);
  return target;
}

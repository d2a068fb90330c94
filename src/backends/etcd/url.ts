/**
 * `etcd://[user:password@]host[:port][,host[:port]…][/][?ca=/path/to/ca.pem]`, and `etcds://`
 * for TLS (the system's CAs, or the `ca` file). Port defaults to 2379. Checked before any I/O.
 */
import { ValidationError } from '../../errors.js';

export interface EtcdTarget {
  /** `host:port` each, or `https://host:port` with TLS. */
  readonly hosts: readonly string[];
  readonly tls: boolean;
  readonly ca: string | null;
  readonly auth: { readonly username: string; readonly password: string } | null;
}

const DEFAULT_PORT = 2379;

export function parseEtcdUrl(url: string): EtcdTarget {
  const match = /^(etcds?):\/\/(?:([^@/]*)@)?([^/?#]+)\/?(?:\?([^#]*))?$/i.exec(url);
  if (!match)
    throw new ValidationError(`malformed etcd URL ${JSON.stringify(url.slice(0, 64))}: use etcd://host:port,host:port`);
  const [, scheme = '', credentials, hostList = '', query] = match;
  const tls = scheme.toLowerCase() === 'etcds';
  const hosts = hostList.split(',').map((host) => hostPort(host, url));
  const params = new URLSearchParams(query ?? '');
  for (const key of params.keys()) {
    if (key !== 'ca') throw new ValidationError(`unknown etcd URL parameter "${key}" (only ca= is known)`);
  }
  const ca = params.get('ca');
  if (ca !== null && !tls) throw new ValidationError('the ca= parameter needs etcds:// (TLS)');
  return {
    hosts: hosts.map((h) => (tls ? `https://${h}` : h)),
    tls,
    ca,
    auth: credentials === undefined ? null : userPassword(credentials),
  };
}

function hostPort(text: string, url: string): string {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(text.trim());
  const port = match?.[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ValidationError(`bad host "${text}" in etcd URL ${JSON.stringify(url.slice(0, 64))}`);
  }
  return `${match[1]}:${port}`;
}

function userPassword(text: string): { username: string; password: string } {
  const colon = text.indexOf(':');
  const username = decodeURIComponent(colon < 0 ? text : text.slice(0, colon));
  const password = colon < 0 ? '' : decodeURIComponent(text.slice(colon + 1));
  if (username === '') throw new ValidationError('an etcd URL with credentials needs a user name');
  return { username, password };
}

import { DEFAULT_SERVER_PORT } from '../../defaults.js';
import { ValidationError } from '../../errors.js';

/** Where a holdfast server is, and the token to present (null: none). */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  readonly token: string | null;
}

export { DEFAULT_SERVER_PORT } from '../../defaults.js';

/**
 * `holdfast://[token@]host[:port]` (port 7700 by default). The token may also be given as a
 * password (`holdfast://:token@host`), as Redis URLs do; it is percent-decoded.
 */
export function parseServerUrl(url: string): ServerAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError(`invalid holdfast:// URL ${JSON.stringify(url.slice(0, 64))}`);
  }
  if (parsed.protocol !== 'holdfast:') throw new ValidationError('a server URL starts with holdfast://');
  if ((parsed.pathname !== '' && parsed.pathname !== '/') || parsed.search !== '' || parsed.hash !== '') {
    throw new ValidationError('a holdfast:// URL is holdfast://[token@]host[:port], with no path or query');
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new ValidationError('a holdfast:// URL needs a host');
  const port = parsed.port === '' ? DEFAULT_SERVER_PORT : Number(parsed.port);
  const secret = parsed.password !== '' ? parsed.password : parsed.username;
  let token: string | null = null;
  if (secret !== '') {
    try {
      token = decodeURIComponent(secret);
    } catch {
      throw new ValidationError('the token in the holdfast:// URL is not valid percent-encoding');
    }
  }
  return { host, port, token };
}

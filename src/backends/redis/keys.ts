/**
 * Every key and channel the Redis backend writes (the README's key table lists the same).
 * For name N under prefix P, all keys of one name share the hash tag `{N}`, so one script can
 * touch them all on Redis Cluster too:
 *
 * | key      | type | content                                                         |
 * | -------- | ---- | --------------------------------------------------------------- |
 * | `P{N}:h` | ZSET | holder token → expiresAt (ms, server clock)                     |
 * | `P{N}:q` | ZSET | waiter token → arrival sequence (FIFO order)                    |
 * | `P{N}:w` | ZSET | waiter token → waiter expiresAt (ms)                            |
 * | `P{N}:d` | HASH | `h:<token>`, `w:<token>` records; `used`, `seq`, `fence`, `kind`, `limit` |
 *
 * Wake-ups for client C are published on `P` + `wake:` + C.
 */

/** The four keys of one name, in the order every script takes them as KEYS[1..4]. */
export type NameKeys = readonly [holders: string, queue: string, waiters: string, data: string];

export function nameKeys(prefix: string, name: string): NameKeys {
  const base = `${prefix}{${name}}`;
  return [`${base}:h`, `${base}:q`, `${base}:w`, `${base}:d`];
}

/** Scripts publish on this plus the waiter's client id. */
export function wakePrefix(prefix: string): string {
  return `${prefix}wake:`;
}

export function wakeChannel(prefix: string, clientId: string): string {
  return wakePrefix(prefix) + clientId;
}

/**
 * A SCAN MATCH pattern for the data keys of names matching `namePattern`. The user's glob
 * passes through as it is; only our own prefix is escaped, so a prefix such as `app[1]:`
 * matches itself and nothing else.
 */
export function dataKeyPattern(prefix: string, namePattern: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}{${namePattern}}:d`;
}

/** The name in a data key found by SCAN, or null when the key is not one of ours. */
export function nameOfDataKey(prefix: string, key: string): string | null {
  const head = `${prefix}{`;
  const tail = '}:d';
  if (!key.startsWith(head) || !key.endsWith(tail) || key.length < head.length + tail.length) {
    return null;
  }
  return key.slice(head.length, key.length - tail.length);
}

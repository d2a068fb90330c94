/**
 * Every key and channel the Redis backend writes (the README's key table lists the same).
 * For name N under prefix P, all keys of one name share the hash tag `{E}`, so one script can
 * touch them all on Redis Cluster too. E is N with `%`, `{` and `}` percent-encoded (`%25`,
 * `%7B`, `%7D`; every other character as it is): Redis hashes only what lies between the first
 * `{` and the next `}`, so a raw brace in a name (`a}b`, `{x}y`) would cut the tag short or start
 * another one, and could put one name's keys in different slots or steer it into a slot of the
 * caller's choosing. Encoded, the tag is always the whole name and nothing else:
 *
 * | key       | type | content                                                        |
 * | --------- | ---- | -------------------------------------------------------------- |
 * | `P{E}:h`  | ZSET | holder token → expiresAt (ms, server clock)                    |
 * | `P{E}:q`  | ZSET | waiter token → arrival sequence (FIFO order)                   |
 * | `P{E}:w`  | ZSET | waiter token → waiter expiresAt (ms)                           |
 * | `P{E}:d`  | HASH | `h:<token>`, `w:<token>` records; `used`, `seq`, `fence`, `kind`, `limit` |
 *
 * A name with one holder, nobody waiting and nobody watching when it was granted has no
 * sorted sets: its sole holder is `fence` = `<fence>|<token>|<offset µs>|<ttl ms>|<permits>|<owner>`
 * (expiry: (fence + offset) / 1000 + ttl), rewritten in the form above as soon as anything needs more
 * (scripts/includes/sole.lua; {@link soleExpiry} reads it).
 *
 * A rate limiter named N has keys of its own (a lock and a limiter of one name never mix):
 *
 * | key       | type | content                                                        |
 * | --------- | ---- | -------------------------------------------------------------- |
 * | `P{E}:rl` | ZSET | sliding-window log: admission id `<µs>.<seq>:<cost>` → admission ms |
 * | `P{E}:rq` | ZSET | waiter token → arrival sequence (FIFO order)                   |
 * | `P{E}:rw` | ZSET | waiter token → waiter expiresAt (ms)                           |
 * | `P{E}:rd` | HASH | `used`, `seq`, `tat`, `win`, `count`, `w:<token>` = `cost\|clientId` |
 *
 * Names without `%`, `{` or `}` are their own tag, as before this encoding.
 *
 * The data hash outlives an idle name (no holder, no waiter) under its last TTL, for the fence;
 * the sorted sets are deleted then (scripts/includes/touch-keys.lua).
 *
 * Values of the value store (`cached()`): `P` + `value:` + K, a string with a TTL (SET PX).
 *
 * Channels: wake-ups for client C on `P` + `wake:` + C (payload: the waiter's token,
 * `token|retryAfter` for a new queue head, or `token|fence|serverMicros` for a hand-off
 * grant: scripts/includes/drain.lua), or, on a Redis Cluster ≥ 7.0 where C has SSUBSCRIBEd
 * it, on the name's shard channel `P{E}:wake:` + C (same payload, SPUBLISH: shard-wakes.ts,
 * scripts/includes/wake.lua); events
 * about name N on `P` + `ev:` + N (payload: JSON, see scripts/includes/events.lua). The scripts
 * get `P` and build both names the same way as the functions below.
 */

const SOLE_HOLDER = /^(\d+)\|[^|]+\|(-?\d+)\|(\d+)\|\d+\|/;

/**
 * The expiry (server ms) of the sole holder that a data hash's `fence` field holds, or null when
 * the field is a bare fence (or absent): what scripts/includes/sole.lua's parseSole computes.
 */
export function soleExpiry(fence: string | null): number | null {
  const match = fence === null ? null : SOLE_HOLDER.exec(fence);
  return match ? (Number(match[1]) + Number(match[2])) / 1000 + Number(match[3]) : null;
}

/** The four keys of one name, in the order every script takes them as KEYS[1..4]. */
export type NameKeys = readonly [holders: string, queue: string, waiters: string, data: string];

/** The name as it stands inside the hash tag: `%`, `{` and `}` percent-encoded (see above). */
export function encodeTag(name: string): string {
  return name.replace(/[%{}]/g, (c) => (c === '%' ? '%25' : c === '{' ? '%7B' : '%7D'));
}

function decodeTag(tag: string): string {
  return tag.replace(/%(25|7B|7D)/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** `P{E}`: what every key of the name starts with; its hash tag decides the cluster slot. */
export function nameBase(prefix: string, name: string): string {
  return `${prefix}{${encodeTag(name)}}`;
}

export function nameKeys(prefix: string, name: string): NameKeys {
  const base = nameBase(prefix, name);
  return [`${base}:h`, `${base}:q`, `${base}:w`, `${base}:d`];
}

/** The four keys of a rate limiter, in the order rate-take.lua takes them as KEYS[1..4]. */
export type RateKeys = readonly [log: string, queue: string, waiters: string, data: string];

export function rateKeys(prefix: string, name: string): RateKeys {
  const base = nameBase(prefix, name);
  return [`${base}:rl`, `${base}:rq`, `${base}:rw`, `${base}:rd`];
}

/** Where `cached()` keeps a value (the backend's value store): a plain string key with a TTL. */
export function valueKey(prefix: string, key: string): string {
  return `${prefix}value:${key}`;
}

/** Scripts publish on this plus the waiter's client id. */
export function wakePrefix(prefix: string): string {
  return `${prefix}wake:`;
}

export function wakeChannel(prefix: string, clientId: string): string {
  return wakePrefix(prefix) + clientId;
}

/**
 * What a waiter's client sends as its client id when it listens on the name's shard channel:
 * the scripts then SPUBLISH its wake-ups there (scripts/includes/wake.lua). A client id never
 * starts with it (create.ts).
 */
export const SHARD_WAKE_MARK = '#';

/**
 * The shard channel of `clientId`'s wake-ups about `name`: it carries the name's hash tag, so
 * it lives in the slot of the name's keys, on the master whose scripts SPUBLISH to it.
 */
export function shardWakeChannel(prefix: string, name: string, clientId: string): string {
  return `${nameBase(prefix, name)}:wake:${clientId}`;
}

/** Scripts publish events about a name on this plus the name. */
export function eventPrefix(prefix: string): string {
  return `${prefix}ev:`;
}

/**
 * The PSUBSCRIBE pattern for events about names matching the glob `namePattern`; like
 * `dataKeyPattern`, only our own prefix is escaped.
 */
export function eventPattern(prefix: string, namePattern: string): string {
  return eventPrefix(escapeGlob(prefix)) + namePattern;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * A SCAN MATCH pattern for the data keys of names matching `namePattern`. The user's glob
 * passes through as it is; only our own prefix is escaped, so a prefix such as `app[1]:`
 * matches itself and nothing else.
 */
export function dataKeyPattern(prefix: string, namePattern: string): string {
  return `${escapeGlob(prefix)}{${encodeTag(namePattern)}}:d`;
}

/** The name in a data key found by SCAN, or null when the key is not one of ours. */
export function nameOfDataKey(prefix: string, key: string): string | null {
  const head = `${prefix}{`;
  const tail = '}:d';
  if (!key.startsWith(head) || !key.endsWith(tail) || key.length < head.length + tail.length) {
    return null;
  }
  const tag = key.slice(head.length, key.length - tail.length);
  // A key whose tag holds a raw brace was not written by us (every name is encoded).
  return /[{}]/.test(tag) ? null : decodeTag(tag);
}

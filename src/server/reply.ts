/**
 * Replies and pushes as values, and their RESP encoding: RESP2 by default, RESP3 once a
 * connection said `HELLO 3` (then nil is `_`, maps are `%` and pushes `>` may arrive between
 * replies). Bulk strings are UTF-8 text: every name and token the server accepted is.
 */

/** A status line: `+OK`. */
export interface Status {
  readonly status: string;
}

/** An error line: `-CODE message`, CODE being a stable word a client can match on. */
export interface ErrorReply {
  readonly error: string;
  readonly message: string;
}

/** Key-value pairs: a map in RESP3, a flat array in RESP2. */
export interface MapReply {
  readonly map: readonly (readonly [string, Reply])[];
}

/** string: a bulk string; number: an integer; null: nil. */
export type Reply = string | number | null | Status | ErrorReply | MapReply | readonly Reply[];

export const OK: Status = { status: 'OK' };

export function errorReply(code: string, message: string): ErrorReply {
  return { error: code, message };
}

/** A `-CODE message` line can hold no line break. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

export function encodeReply(reply: Reply, resp3: boolean): string {
  if (reply === null) return resp3 ? '_\r\n' : '$-1\r\n';
  if (typeof reply === 'string') return `$${Buffer.byteLength(reply, 'utf8')}\r\n${reply}\r\n`;
  if (typeof reply === 'number') return `:${Number.isInteger(reply) ? reply : Math.ceil(reply)}\r\n`;
  if (isList(reply)) return encodeItems('*', reply, resp3);
  if ('status' in reply) return `+${oneLine(reply.status)}\r\n`;
  if ('error' in reply) return `-${reply.error} ${oneLine(reply.message)}\r\n`;
  if ('map' in reply) {
    if (!resp3) return encodeItems('*', reply.map.flat(), resp3);
    return `%${reply.map.length}\r\n${reply.map.map(([k, v]) => encodeReply(k, true) + encodeReply(v, true)).join('')}`;
  }
  throw new TypeError('not a reply');
}

// Array.isArray does not narrow a readonly array out of a union.
function isList(reply: Reply): reply is readonly Reply[] {
  return Array.isArray(reply);
}

/** An out-of-band message (RESP3 only): `>N` then its items. */
export function encodePush(items: readonly Reply[]): string {
  return encodeItems('>', items, true);
}

function encodeItems(marker: string, items: readonly Reply[], resp3: boolean): string {
  let out = `${marker}${items.length}\r\n`;
  for (const item of items) out += encodeReply(item, resp3);
  return out;
}

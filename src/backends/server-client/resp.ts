/**
 * A parser for the server's RESP2/RESP3 replies and pushes, fed as bytes arrive. It keeps the
 * unparsed tail only, and remembers how many bytes the frame at its head needs at least, so a
 * large reply arriving in many chunks is not parsed again for every chunk.
 */

/** An error reply: `-CODE message`. */
export class RespError {
  readonly code: string;
  readonly message: string;

  constructor(line: string) {
    const space = line.indexOf(' ');
    this.code = space < 0 ? line : line.slice(0, space);
    this.message = space < 0 ? '' : line.slice(space + 1);
  }
}

/** Strings are UTF-8 text; maps arrive as flat [key, value, …] arrays. */
export type RespValue = string | number | boolean | null | RespError | RespValue[];

export type Frame = { readonly reply: RespValue } | { readonly push: RespValue[] };

const MAX_DEPTH = 32;
const CRLF = Buffer.from('\r\n');

class Incomplete {
  constructor(readonly needed: number) {}
}

interface Parsed {
  readonly value: RespValue;
  readonly end: number;
}

export class ReplyParser {
  /** Unparsed bytes, joined only once there are enough of them for the frame at the head. */
  #chunks: Buffer[] = [];
  #length = 0;
  #needed = 1;

  feed(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The next complete frame, or null until more bytes arrive. Throws on a malformed one. */
  next(): Frame | null {
    if (this.#length < this.#needed) return null;
    const buf = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    const parsed = parseAt(buf, 0, 0);
    if (parsed instanceof Incomplete) {
      this.#chunks = [buf];
      this.#needed = parsed.needed;
      return null;
    }
    const rest = buf.subarray(parsed.end);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#length = rest.length;
    this.#needed = 1;
    if (buf[0] === 0x3e) return { push: parsed.value as RespValue[] }; // '>'
    return { reply: parsed.value };
  }
}

function line(buf: Buffer, pos: number): { text: string; end: number } | Incomplete {
  const at = buf.indexOf(CRLF, pos);
  if (at < 0) return new Incomplete(buf.length + 1);
  return { text: buf.toString('utf8', pos + 1, at), end: at + 2 };
}

function parseAt(buf: Buffer, pos: number, depth: number): Parsed | Incomplete {
  if (depth > MAX_DEPTH) throw new Error('reply nested too deeply');
  if (pos >= buf.length) return new Incomplete(pos + 1);
  const head = line(buf, pos);
  if (head instanceof Incomplete) return head;
  const { text, end } = head;
  switch (String.fromCharCode(buf[pos] ?? 0)) {
    case '+':
    case '(':
      return { value: text, end };
    case '-':
      return { value: new RespError(text), end };
    case ':':
    case ',':
      return { value: Number(text), end };
    case '#':
      return { value: text === 't', end };
    case '_':
      return { value: null, end };
    case '$':
    case '=':
    case '!':
      return bulk(buf, String.fromCharCode(buf[pos] ?? 0), Number(text), end);
    case '*':
    case '~':
    case '>':
      return items(buf, Number(text), end, depth);
    case '%':
      return items(buf, Number(text) * 2, end, depth);
    default:
      throw new Error(`unexpected reply type byte ${buf[pos]}`);
  }
}

function bulk(buf: Buffer, type: string, length: number, start: number): Parsed | Incomplete {
  if (length < 0) return { value: null, end: start };
  if (!Number.isSafeInteger(length)) throw new Error('invalid bulk length');
  const end = start + length + 2;
  if (buf.length < end) return new Incomplete(end);
  const text = buf.toString('utf8', start, start + length);
  if (type === '!') return { value: new RespError(text), end };
  // A verbatim string starts with its format: "txt:".
  return { value: type === '=' ? text.slice(4) : text, end };
}

function items(buf: Buffer, count: number, start: number, depth: number): Parsed | Incomplete {
  if (count < 0) return { value: null, end: start };
  if (!Number.isSafeInteger(count)) throw new Error('invalid aggregate length');
  const values: RespValue[] = [];
  let at = start;
  for (let i = 0; i < count; i++) {
    const item = parseAt(buf, at, depth + 1);
    if (item instanceof Incomplete) return item;
    values.push(item.value);
    at = item.end;
  }
  return { value: values, end: at };
}

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

import { IntegerLine } from '../../util/resp-integer.js';

const MAX_DEPTH = 32;
const CRLF = Buffer.from('\r\n');

class Incomplete {
  constructor(readonly needed: number) {}
}

export class ReplyParser {
  /** Unparsed bytes, joined only once there are enough of them for the frame at the head. */
  #chunks: Buffer[] = [];
  #length = 0;
  #needed = 1;
  readonly #integer = new IntegerLine();

  feed(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /**
   * Copies the unparsed bytes it still holds of `shared` (a read buffer that the next read
   * overwrites): what was fed is parsed in place, and a copy is made only of the first part of
   * a frame split across reads, which replies seldom are.
   */
  retain(shared: ArrayBufferLike): void {
    for (let i = 0; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i] as Buffer;
      if (chunk.buffer === shared) this.#chunks[i] = Buffer.from(chunk);
    }
  }

  /** The next complete frame, or null until more bytes arrive. Throws on a malformed one. */
  next(): Frame | null {
    if (this.#length < this.#needed) return null;
    const buf = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    const reader = new FrameReader(buf, this.#integer);
    let value: RespValue;
    try {
      value = reader.value(0);
    } catch (error) {
      if (!(error instanceof Incomplete)) throw error;
      this.#chunks = [buf];
      this.#needed = error.needed;
      return null;
    }
    // Nearly always the frame was all there was: then no view of the rest is made.
    this.#length = buf.length - reader.pos;
    this.#chunks = this.#length > 0 ? [buf.subarray(reader.pos)] : [];
    this.#needed = 1;
    if (buf[0] === 0x3e) return { push: value as RespValue[] }; // '>'
    return { reply: value };
  }
}

/**
 * Reads one value at `pos` and moves past it; throws Incomplete when its bytes have not all
 * arrived (rare: a frame split across reads). Lengths and integers, the most of every reply, are
 * read byte by byte (IntegerLine).
 */
class FrameReader {
  readonly #buf: Buffer;
  readonly #line: IntegerLine;
  pos = 0;

  constructor(buf: Buffer, line: IntegerLine) {
    this.#buf = buf;
    this.#line = line;
  }

  value(depth: number): RespValue {
    if (depth > MAX_DEPTH) throw new Error('reply nested too deeply');
    const buf = this.#buf;
    if (this.pos >= buf.length) throw new Incomplete(this.pos + 1);
    const type = String.fromCharCode(buf[this.pos] ?? 0);
    switch (type) {
      case ':':
        return this.#integer();
      case '$':
      case '=':
      case '!':
        return this.#bulk(type, this.#integer());
      case '*':
      case '~':
      case '>':
        return this.#items(this.#integer(), depth);
      case '%':
        return this.#items(this.#integer() * 2, depth);
    }
    const text = this.#text();
    switch (type) {
      case '+':
      case '(':
        return text;
      case '-':
        return new RespError(text);
      case ',':
        return Number(text);
      case '#':
        return text === 't';
      case '_':
        return null;
      default:
        throw new Error(`unexpected reply type byte ${buf[this.pos]}`);
    }
  }

  /** The integer of the line at `pos` (`:N`, `$N`, `*N`, …), moving past it. */
  #integer(): number {
    if (!this.#line.read(this.#buf, this.pos + 1)) return Number(this.#text());
    this.pos = this.#line.end;
    return this.#line.value;
  }

  /** The text of the line at `pos` after its type byte, moving past it. */
  #text(): string {
    const buf = this.#buf;
    const at = buf.indexOf(CRLF, this.pos);
    if (at < 0) throw new Incomplete(buf.length + 1);
    const text = buf.toString('utf8', this.pos + 1, at);
    this.pos = at + 2;
    return text;
  }

  #bulk(type: string, length: number): RespValue {
    if (length < 0) return null;
    if (!Number.isSafeInteger(length)) throw new Error('invalid bulk length');
    const start = this.pos;
    const end = start + length + 2;
    if (this.#buf.length < end) throw new Incomplete(end);
    const text = this.#buf.toString('utf8', start, start + length);
    this.pos = end;
    if (type === '!') return new RespError(text);
    // A verbatim string starts with its format: "txt:".
    return type === '=' ? text.slice(4) : text;
  }

  #items(count: number, depth: number): RespValue {
    if (count < 0) return null;
    if (!Number.isSafeInteger(count)) throw new Error('invalid aggregate length');
    const values: RespValue[] = [];
    for (let i = 0; i < count; i++) values.push(this.value(depth + 1));
    return values;
  }
}

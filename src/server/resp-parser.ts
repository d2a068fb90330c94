/**
 * A streaming parser for RESP requests: arrays of bulk strings (what redis-cli and every Redis
 * client send) and inline commands (a line of words, for telnet and nc). Incremental: it keeps
 * only the request being read, never more than `maxFrameBytes` of it, and refuses a request as
 * soon as its declared size is too large, before the bytes arrive.
 */

import { IntegerLine } from '../util/resp-integer.js';

export type ProtocolErrorCode = 'PROTO' | 'LIMIT';

/** Input the connection cannot recover from: answered with `-CODE message`, then closed. */
export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'ProtocolError';
  }
}

export interface ParserLimits {
  readonly maxFrameBytes: number;
  readonly maxArgs: number;
  readonly maxInlineBytes: number;
}

const STAR = 0x2a;
const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;
/** A header line ("*4096\r\n", "$1048576\r\n") is never longer than this. */
const MAX_HEADER = 24;
const EMPTY = Buffer.alloc(0);
/**
 * Below this length an argument is checked for ASCII byte by byte, in JS (names, tokens,
 * numbers); the parser reads such a bulk string that arrived whole as text right away.
 */
const SHORT_ARG = 64;

/**
 * Whether bytes[start, end) is short and all 7-bit: then its latin1 reading is its UTF-8 text,
 * with no decoder (here and in the command layer's decodeArg).
 */
export function isShortAscii(bytes: Buffer, start = 0, end = bytes.length): boolean {
  if (end - start > SHORT_ARG) return false;
  for (let i = start; i < end; i++) {
    if ((bytes[i] as number) > 0x7f) return false;
  }
  return true;
}

/**
 * One argument: its text when it was short 7-bit ASCII that arrived whole (names, tokens,
 * numbers: nearly all of them), else its bytes, for the command layer to check as UTF-8.
 */
export type RequestArg = string | Buffer;

export class RequestParser {
  readonly #limits: ParserLimits;
  /** Unconsumed input; what is left of it between feeds is at most a partial header line. */
  #buf: Buffer = EMPTY;
  #pos = 0;
  /** Arguments the current array request declared, or -1 between requests. */
  #argc = -1;
  #args: RequestArg[] = [];
  /** Bytes the current request's bulk strings declared so far. */
  #bytes = 0;
  /** Length of the bulk string being read, or -1 when its `$` header comes next. */
  #bulk = -1;
  /** Pieces of a bulk string or inline line that spans chunks. */
  #parts: Buffer[] = [];
  #partBytes = 0;
  #inline = false;
  readonly #integer = new IntegerLine();

  constructor(limits: ParserLimits) {
    this.#limits = limits;
  }

  feed(chunk: Buffer): void {
    this.#buf = this.#pos < this.#buf.length ? Buffer.concat([this.#buf.subarray(this.#pos), chunk]) : chunk;
    this.#pos = 0;
  }

  /** true while a request has begun but not ended (the slow-client timer runs meanwhile). */
  get midRequest(): boolean {
    return this.#argc >= 0 || this.#inline || this.#pos < this.#buf.length;
  }

  /** The next complete request's arguments, or null until more input arrives. */
  next(): RequestArg[] | null {
    for (;;) {
      if (this.#argc < 0) {
        if (!this.#inline && this.#pos >= this.#buf.length) return null;
        if (this.#inline || this.#buf[this.#pos] !== STAR) {
          const args = this.#readInline();
          if (args === null) return null;
          if (args.length > 0) return args;
          continue;
        }
        const argc = this.#readHeader();
        if (argc === null) return null;
        // `*0` and `*-1` carry no command; Redis skips them too.
        if (argc <= 0) continue;
        if (argc > this.#limits.maxArgs) {
          throw new ProtocolError('LIMIT', `request of ${argc} arguments; the limit is ${this.#limits.maxArgs}`);
        }
        this.#argc = argc;
        this.#bytes = 0;
      }
      const done = this.#readArgs();
      if (!done) return null;
      const args = this.#args;
      this.#argc = -1;
      this.#args = [];
      return args;
    }
  }

  #readArgs(): boolean {
    while (this.#args.length < this.#argc) {
      if (this.#bulk < 0) {
        if (this.#pos >= this.#buf.length) return false;
        const first = this.#buf[this.#pos] ?? 0;
        if (first !== DOLLAR) throw new ProtocolError('PROTO', `expected '$', got byte ${first}`);
        const length = this.#readHeader();
        if (length === null) return false;
        if (length < 0) throw new ProtocolError('PROTO', `invalid bulk length ${length}`);
        this.#bytes += length;
        if (this.#bytes > this.#limits.maxFrameBytes) {
          throw new ProtocolError('LIMIT', `request exceeds ${this.#limits.maxFrameBytes} bytes`);
        }
        this.#bulk = length;
      }
      const arg = this.#readBulk();
      if (arg === null) return false;
      this.#args.push(arg);
      this.#bulk = -1;
    }
    return true;
  }

  /**
   * `*N\r\n` or `$N\r\n` at the current position: N, or null while the line is incomplete. A
   * well-formed line is read digit by digit (IntegerLine): a search, a string and a regex per
   * header were a tenth of the server's CPU per acquire+release (profile, 64 clients in
   * parallel). Anything else (incomplete, malformed) takes the general path, which says why.
   */
  #readHeader(): number | null {
    if (!this.#integer.read(this.#buf, this.#pos + 1)) return this.#readHeaderText();
    this.#pos = this.#integer.end;
    return this.#integer.value;
  }

  /** #readHeader for any line: through its text, with the reason when it is not `*N` / `$N`. */
  #readHeaderText(): number | null {
    const end = this.#buf.indexOf(CR, this.#pos + 1);
    if (end < 0 || end + 1 >= this.#buf.length) {
      if (this.#buf.length - this.#pos > MAX_HEADER) throw new ProtocolError('PROTO', 'header line too long');
      return null;
    }
    if (end - this.#pos > MAX_HEADER || this.#buf[end + 1] !== LF) {
      throw new ProtocolError('PROTO', 'malformed header line');
    }
    const text = this.#buf.toString('latin1', this.#pos + 1, end);
    if (!/^-?\d{1,19}$/.test(text)) throw new ProtocolError('PROTO', `invalid length ${JSON.stringify(text)}`);
    this.#pos = end + 2;
    return Number(text);
  }

  /** The bulk string of `#bulk` bytes and its CRLF, gathered across chunks. */
  #readBulk(): RequestArg | null {
    const need = this.#bulk + 2 - this.#partBytes;
    const available = this.#buf.length - this.#pos;
    if (available < need) {
      this.#keep(this.#buf.subarray(this.#pos));
      return null;
    }
    if (this.#parts.length === 0) {
      // All of it in this chunk (the usual case): one view, no copy.
      const start = this.#pos;
      const end = start + this.#bulk;
      this.#pos += need;
      const buf = this.#buf;
      if (buf[end] !== CR || buf[end + 1] !== LF) {
        throw new ProtocolError('PROTO', 'bulk string not followed by CRLF');
      }
      // Short and 7-bit: its latin1 reading is its UTF-8 text, read now without a view of the
      // chunk (the view and a second pass over the bytes were most of reading an argument).
      return isShortAscii(buf, start, end) ? buf.toString('latin1', start, end) : buf.subarray(start, end);
    }
    const piece = this.#buf.subarray(this.#pos, this.#pos + need);
    this.#pos += need;
    const whole = this.#gather(piece);
    if (whole[this.#bulk] !== CR || whole[this.#bulk + 1] !== LF) {
      throw new ProtocolError('PROTO', 'bulk string not followed by CRLF');
    }
    return whole.subarray(0, this.#bulk);
  }

  /** An inline command line split into words, or null while the line is incomplete. */
  #readInline(): Buffer[] | null {
    const end = this.#buf.indexOf(LF, this.#pos);
    if (end < 0) {
      this.#inline = true;
      this.#keep(this.#buf.subarray(this.#pos));
      if (this.#partBytes > this.#limits.maxInlineBytes) {
        throw new ProtocolError('LIMIT', `inline command exceeds ${this.#limits.maxInlineBytes} bytes`);
      }
      return null;
    }
    const piece = this.#buf.subarray(this.#pos, end);
    this.#pos = end + 1;
    this.#inline = false;
    const line = this.#gather(piece);
    if (line.length > this.#limits.maxInlineBytes) {
      throw new ProtocolError('LIMIT', `inline command exceeds ${this.#limits.maxInlineBytes} bytes`);
    }
    const words = line
      .toString('latin1')
      .split(/[ \t\r]+/)
      .filter((word) => word.length > 0);
    if (words.length > this.#limits.maxArgs) {
      throw new ProtocolError('LIMIT', `request of ${words.length} arguments; the limit is ${this.#limits.maxArgs}`);
    }
    return words.map((word) => Buffer.from(word, 'latin1'));
  }

  #keep(piece: Buffer): void {
    if (piece.length > 0) {
      this.#parts.push(piece);
      this.#partBytes += piece.length;
    }
    this.#buf = EMPTY;
    this.#pos = 0;
  }

  #gather(last: Buffer): Buffer {
    if (this.#parts.length === 0) return last;
    const whole = Buffer.concat([...this.#parts, last]);
    this.#parts = [];
    this.#partBytes = 0;
    return whole;
  }
}

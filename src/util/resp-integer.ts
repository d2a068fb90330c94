/**
 * The integer line of RESP (`:N`, `$N`, `*N` …: `-?digits` then CRLF), read byte by byte: a
 * search for the CRLF, a string and a number parse per line were most of parsing a short request
 * or reply. Shared by the server's request parser and the holdfast:// client's reply parser.
 */

const CR = 0x0d;
const LF = 0x0a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
/** Digits read here at most: more go the caller's general way (which refuses or parses them). */
const MAX_DIGITS = 15;

/** One per parser, reused for every line (nothing allocated per line). */
export class IntegerLine {
  value = 0;
  /** Just past the line's CRLF. */
  end = 0;

  /**
   * true when `buf` holds, from `start`, at most MAX_DIGITS digits (after an optional minus) and
   * a CRLF. false for anything else (incomplete, malformed, too long): the caller then reads the
   * line the general way, which says why it is not one.
   */
  read(buf: Buffer, start: number): boolean {
    let at = start;
    if (buf[at] === MINUS) at++;
    const digits = at;
    let value = 0;
    for (let byte = buf[at]; byte !== undefined && byte >= ZERO && byte <= NINE; byte = buf[at]) {
      if (at - digits >= MAX_DIGITS) return false;
      value = value * 10 + (byte - ZERO);
      at++;
    }
    if (at === digits || buf[at] !== CR || buf[at + 1] !== LF) return false;
    this.value = digits === start ? value : -value;
    this.end = at + 2;
    return true;
  }
}

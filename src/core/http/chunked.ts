/**
 * Where a chunked body ends (RFC 9112 §7.1). Bodies are never decoded: the
 * scanner walks the chunked coding to find its end and validates every byte
 * of its grammar, and the bytes travel on as they came. Only what the scanner
 * accepted is forwarded, so a malformed chunk line never reaches a backend
 * (a lenient chunk parser behind a strict one, or the reverse, is how bodies
 * get smuggled).
 */

import { TCHAR } from './tokens.js';

/** The chunked coding is malformed (invalid size, bare CR/LF, overflow). */
export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

const enum S {
  Size, Ext, ExtName, ExtValStart, ExtTok, ExtQuoted, ExtQuotedEsc, ExtAfterQuoted, SizeLf,
  Data, DataCr, DataLf, TrailerStart, TrailerLine, TrailerLf, EndLf, Done,
}

/** 13 hex digits stay below 2^53: a longer size is refused, never wrapped. */
const MAX_SIZE_DIGITS = 13;

function extStep(s: S, c: number): S {
  const bad = (): never => { throw new FramingError('invalid chunk extension'); };
  switch (s) {
    case S.Ext:
      return TCHAR[c] === 1 ? S.ExtName : bad();
    case S.ExtName:
      if (TCHAR[c] === 1) return S.ExtName;
      return c === 0x3d ? S.ExtValStart : c === 0x3b ? S.Ext : c === 0x0d ? S.SizeLf : bad();
    case S.ExtValStart:
      return TCHAR[c] === 1 ? S.ExtTok : c === 0x22 ? S.ExtQuoted : bad();
    case S.ExtTok:
      if (TCHAR[c] === 1) return S.ExtTok;
      return c === 0x3b ? S.Ext : c === 0x0d ? S.SizeLf : bad();
    case S.ExtQuoted:
      if (c === 0x22) return S.ExtAfterQuoted;
      if (c === 0x5c) return S.ExtQuotedEsc;
      return (c < 0x20 && c !== 0x09) || c === 0x7f ? bad() : S.ExtQuoted;
    case S.ExtQuotedEsc:
      return (c < 0x20 && c !== 0x09) || c === 0x7f ? bad() : S.ExtQuoted;
    default:
      return c === 0x3b ? S.Ext : c === 0x0d ? S.SizeLf : bad();
  }
}

export class ChunkedScanner {
  /** True once a trailer field was seen (fields after the body: a place smuggled headers hide). */
  trailers = false;
  /** Told each run of chunk data (the decoded body), for a reader that needs the content rather than the coding. */
  onData: ((buf: Buffer, start: number, end: number) => void) | null = null;

  private s = S.Size;
  private size = 0;
  private digits = 0;
  private trailerBytes = 0;

  /** @param maxTrailer bytes allowed for chunk extensions and trailer fields together. */
  constructor(private readonly maxTrailer: number) {}

  /**
   * Scans `buf[from..]`. Returns the offset just past the body's last byte
   * once it is complete, or -1 when every byte belongs to the body and more
   * are needed. Throws FramingError on anything outside the grammar.
   */
  scan(buf: Buffer, from: number): number {
    const end = buf.length;
    let i = from;
    while (i < end) {
      switch (this.s) {
        case S.Data: {
          const n = Math.min(this.size, end - i);
          if (this.onData !== null && n > 0) this.onData(buf, i, i + n);
          i += n;
          this.size -= n;
          if (this.size === 0) this.s = S.DataCr;
          continue;
        }
        case S.Size: {
          const c = buf[i]!;
          const h = HEX[c]!;
          if (h >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw new FramingError('chunk size too large');
            this.size = this.size * 16 + h;
          } else if (this.digits === 0) {
            throw new FramingError('invalid chunk size');
          } else if (c === 0x3b) {
            this.s = S.Ext;
          } else if (c === 0x0d) {
            this.s = S.SizeLf;
          } else {
            throw new FramingError('invalid chunk size');
          }
          break;
        }
        // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] ), RFC 9112 §7.1.1,
        // without the BWS (strict parsers refuse it, and agreeing with them is the point).
        case S.Ext:
        case S.ExtName:
        case S.ExtValStart:
        case S.ExtTok:
        case S.ExtQuoted:
        case S.ExtQuotedEsc:
        case S.ExtAfterQuoted:
          if (++this.trailerBytes > this.maxTrailer) throw new FramingError('chunk extensions too large');
          this.s = extStep(this.s, buf[i]!);
          break;
        case S.SizeLf:
          if (buf[i] !== 0x0a) throw new FramingError('bare CR in chunk line');
          this.s = this.size === 0 ? S.TrailerStart : S.Data;
          this.digits = 0;
          break;
        case S.DataCr:
          if (buf[i] !== 0x0d) throw new FramingError('chunk data longer than its size');
          this.s = S.DataLf;
          break;
        case S.DataLf:
          if (buf[i] !== 0x0a) throw new FramingError('bare CR after chunk data');
          this.s = S.Size;
          break;
        case S.TrailerStart:
          if (buf[i] === 0x0d) {
            this.s = S.EndLf;
            break;
          }
          this.s = S.TrailerLine;
          this.trailers = true;
          continue;
        case S.TrailerLine: {
          const c = buf[i]!;
          if (c === 0x0d) this.s = S.TrailerLf;
          else if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new FramingError('invalid character in trailer');
          else if (++this.trailerBytes > this.maxTrailer) throw new FramingError('trailer too large');
          break;
        }
        case S.TrailerLf:
          if (buf[i] !== 0x0a) throw new FramingError('bare CR in trailer');
          this.s = S.TrailerStart;
          break;
        case S.EndLf:
          if (buf[i] !== 0x0a) throw new FramingError('bare CR at end of chunked body');
          this.s = S.Done;
          return i + 1;
        default:
          return i;
      }
      i++;
    }
    return -1;
  }
}

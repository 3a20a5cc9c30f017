const enum S { Size, Ext, Data, DataEnd, Trailer, Done }

/**
 * The data of a chunked body, piece by piece. It decodes only bytes that
 * `ChunkedScanner` (via `ResponseBody.frame`) already accepted, so it checks
 * nothing: the grammar was enforced once, where it is for both engines.
 * Trailer fields are dropped (uWS writes its own chunked coding, without
 * trailers).
 */
export class ChunkDecoder {
  private s = S.Size;
  private left = 0;
  /** Bytes of the trailer line being read (an empty line ends the body). */
  private lineLength = 0;

  /** The data bytes in `buf` (views, no copy). */
  decode(buf: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    const n = buf.length;
    while (i < n && this.s !== S.Done) {
      const c = buf[i]!;
      switch (this.s) {
        case S.Size:
          if (c === 0x0a) {
            this.s = this.left === 0 ? S.Trailer : S.Data;
            this.lineLength = 0;
          } else if (c === 0x3b || c === 0x20 || c === 0x09) {
            this.s = S.Ext;
          } else if (c !== 0x0d) {
            this.left = this.left * 16 + hex(c);
          }
          i++;
          break;
        case S.Ext:
          if (c === 0x0a) {
            this.s = this.left === 0 ? S.Trailer : S.Data;
            this.lineLength = 0;
          }
          i++;
          break;
        case S.Data: {
          const take = Math.min(this.left, n - i);
          out.push(buf.subarray(i, i + take));
          i += take;
          this.left -= take;
          if (this.left === 0) this.s = S.DataEnd;
          break;
        }
        case S.DataEnd:
          // CR LF after the data.
          if (c === 0x0a) this.s = S.Size;
          i++;
          break;
        case S.Trailer:
          if (c === 0x0a) {
            if (this.lineLength === 0) this.s = S.Done;
            this.lineLength = 0;
          } else if (c !== 0x0d) {
            this.lineLength++;
          }
          i++;
          break;
        default:
          i = n;
      }
    }
    return out;
  }
}

function hex(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

/** A piece of a body uWS decoded, chunked again; the end of the body ends the coding. */
export function rechunk(data: Buffer, last: boolean): Buffer {
  const parts: Buffer[] = [];
  if (data.length > 0) parts.push(Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'), data, CRLF);
  if (last) parts.push(LAST_CHUNK);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

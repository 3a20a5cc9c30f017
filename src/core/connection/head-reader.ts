import { HeadFinder } from '../http/parser.js';
import { BadResponseHead, parseResponseHead, type ResponseHead } from '../http/response-head.js';

/** `buf[end - 4, end)` is CRLF CRLF. */
function endsWithCrlfCrlf(buf: Buffer, end: number): boolean {
  return end >= 4 && buf[end - 1] === 0x0a && buf[end - 2] === 0x0d && buf[end - 3] === 0x0a && buf[end - 4] === 0x0d;
}

/**
 * Interim (1xx) answers taken before the final one of a request. A server
 * that sends more is looping (or flooding): its answer is refused (502).
 */
export const MAX_INTERIM = 8;

/**
 * Reads a server's response heads the same way in both connection modes and
 * for CONCURRENT legs: the one check is `parseResponseHead`, whatever path
 * found the head's end. Fast path: the whole head is in what came so far
 * (nearly always, in one read) and parses in one pass. A head in pieces, or
 * one that ends with bare LFs or that the parser refuses, goes through the
 * incremental `HeadFinder`, so the verdict that counts is the same.
 *
 * Invariant: `bytes` holds what the server sent since the last head taken
 * (`next`), the head being read first.
 */
export class ResponseHeadReader {
  private buf: Buffer | null = null;
  private finder: HeadFinder | null = null;
  private interims = 0;
  /** Line offsets of the last head read (for a splice or a rewrite). */
  readonly offs: number[] = [];

  constructor(private readonly max: number) {}

  /** What came since the last head taken: the head at [0, end), then what followed. */
  get bytes(): Buffer {
    return this.buf!;
  }

  /**
   * Takes `chunk` (null: look again at what is kept, after `next`). Returns
   * the head once complete, null while more is needed, or why the bytes are
   * not a usable response head.
   */
  feed(chunk: Buffer | null): ResponseHead | null | string {
    if (chunk !== null) this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    const buf = this.buf;
    if (buf === null) return null;
    let fresh = chunk ?? buf;
    if (this.finder === null) {
      // The parser stops at the first empty line: a head that ends there in
      // CRLF CRLF within the limit is whole (no separate search for it).
      const limit = buf.length < this.max ? buf.length : this.max;
      try {
        const info = parseResponseHead(buf, 0, limit, this.offs);
        if (endsWithCrlfCrlf(buf, info.end)) return info;
      } catch {
        // The incremental parser below gives the verdict.
      }
      this.finder = new HeadFinder('RESPONSE', this.max);
      fresh = buf;
    }
    const r = this.finder.feed(fresh);
    if (r === null) return null;
    if (r instanceof Error) return r.message;
    try {
      const info = parseResponseHead(buf, 0, r.end, this.offs);
      info.end = r.end;
      return info;
    } catch (err) {
      return (err as BadResponseHead).message;
    }
  }

  /**
   * `feed` for a request's answer: each interim head (1xx other than 101) is
   * given to `interim` (its bytes at [0, end) of `buf`) and skipped. Returns
   * the final head (or a 101), null while more is needed, or why the bytes
   * are refused.
   */
  final(chunk: Buffer | null, interim: (buf: Buffer, end: number) => void): ResponseHead | null | string {
    let info = this.feed(chunk);
    while (info !== null && typeof info !== 'string' && info.status < 200 && info.status !== 101) {
      interim(this.buf!, info.end);
      const more = this.next(info.end);
      if (more === null || typeof more === 'string') return more;
      info = this.feed(null);
    }
    return info;
  }

  /**
   * The interim head at [0, end) was dealt with: what followed it is the
   * start of the next head. Returns that (null when nothing followed), or
   * why no more interim heads are taken.
   */
  next(end: number): Buffer | null | string {
    if (++this.interims > MAX_INTERIM) return `more than ${MAX_INTERIM} interim responses`;
    this.finder = null;
    const buf = this.buf!;
    this.buf = end < buf.length ? buf.subarray(end) : null;
    return this.buf;
  }

  /** Forgets everything (a new attempt, or the head was taken as final). */
  reset(): void {
    this.buf = null;
    this.finder = null;
    this.interims = 0;
  }
}

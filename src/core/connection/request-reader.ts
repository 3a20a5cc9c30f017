import { BadRequestError, HeadTooLargeError, type UpshiftError } from '../errors.js';
import { HeadFinder, HeadSizeExceeded } from '../http/parser.js';
import { parseRequestHead, readWholeRequestHead, type RequestHead } from '../http/request-head.js';

/** A request head read from a client: the head, and the bytes it came in (`end` is where the head ends in `buf`). */
export interface HeadRead {
  readonly head: RequestHead;
  readonly buf: Buffer;
  readonly end: number;
}

/**
 * Reads request heads the same way in both connection modes. Fast path: the
 * whole head is in what came so far (nearly always, in one read) and parses
 * in one pass. Otherwise http-parser-js finds where the head ends, whatever
 * the TCP segmentation, and `parseRequestHead` checks it strictly. Every
 * failure is mapped once: too large → `HeadTooLargeError` (431), anything
 * else → `BadRequestError` (400).
 *
 * Invariant: `pending` holds the client bytes not taken yet: the head being
 * read, or (http mode) pipelined requests behind the one in flight.
 */
export class RequestHeadReader {
  private buf: Buffer | null = null;
  private finder: HeadFinder | null = null;

  constructor(private readonly max: number) {}

  /** Client bytes not taken yet (null: none). */
  get pending(): Buffer | null {
    return this.buf;
  }

  /** The head is being read in pieces (the incremental parser is on). */
  get inPieces(): boolean {
    return this.finder !== null;
  }

  /** The first line (the request line) is still being read: bytes that may not be HTTP at all. */
  get inFirstLine(): boolean {
    return this.finder?.inFirstLine ?? false;
  }

  /** Keeps bytes that follow the request in flight, for later. Returns how many are kept. */
  queue(rest: Buffer): number {
    this.buf = this.buf === null ? rest : Buffer.concat([this.buf, rest]);
    return this.buf.length;
  }

  /**
   * Takes `chunk` (null: look again at what is pending). Returns the head
   * once complete (its bytes leave `pending`), null while more is needed,
   * or the error to answer.
   */
  feed(chunk: Buffer | null): HeadRead | null | UpshiftError {
    if (chunk !== null) this.queue(chunk);
    const buf = this.buf;
    if (buf === null) return null;
    let finder = this.finder;
    // A head in pieces was fed everything pending already: only new bytes can finish it.
    if (finder !== null && chunk === null) return null;
    let fresh = chunk ?? buf;
    if (finder === null) {
      const whole = readWholeRequestHead(buf, this.max);
      if (whole !== null) {
        this.buf = null;
        return { head: whole, buf, end: whole.length };
      }
      finder = this.finder = new HeadFinder('REQUEST', this.max);
      fresh = buf;
    }
    const r = finder.feed(fresh);
    if (r === null) return null;
    if (r instanceof Error) return r instanceof HeadSizeExceeded ? new HeadTooLargeError(this.max) : new BadRequestError(r.message);
    this.finder = null;
    this.buf = null;
    try {
      return { head: parseRequestHead(buf, r.end), buf, end: r.end };
    } catch (err) {
      return err as UpshiftError;
    }
  }

  /** Takes every pending byte (they belong to another protocol now, or are dropped). */
  take(): Buffer | null {
    const b = this.buf;
    this.buf = null;
    this.finder = null;
    return b;
  }
}

import { ChunkedScanner } from '../http/chunked.js';
import type { ResponseHead } from '../http/response-head.js';

const enum Framing { None, Length, Chunked, Eof }

/**
 * Where a response body ends in http mode (RFC 9112 §6.3), and whether its
 * upstream connection can carry another request afterwards.
 *
 * Invariant: `dirty` once any byte came past the body's end (the server
 * lost the framing, or pipelined unasked); such a connection is never
 * pooled again.
 */
export class ResponseBody {
  /** The body ended (its framing said so). */
  done = false;
  /** The server will close after this response, or the body runs to its close. */
  closes = false;
  /** Bytes came past the body's end. */
  dirty = false;
  private framing = Framing.None;
  private left = 0;
  private scan: ChunkedScanner | null = null;

  constructor(private readonly chunkLimit: number) {}

  /** A final head came for a request with `method`: how its body is framed. */
  begin(info: ResponseHead, method: string): void {
    this.done = false;
    this.scan = null;
    const status = info.status;
    if (method === 'HEAD' || status === 204 || status === 304) {
      this.framing = Framing.None;
    } else if (info.chunked) {
      this.framing = Framing.Chunked;
      this.scan = new ChunkedScanner(this.chunkLimit);
    } else if (info.otherCoding || info.contentLength === -1) {
      this.framing = Framing.Eof;
    } else {
      this.framing = info.contentLength === 0 ? Framing.None : Framing.Length;
      this.left = info.contentLength;
    }
    this.closes = info.close || this.framing === Framing.Eof;
  }

  /** The body runs until the server closes. */
  get toEof(): boolean {
    return this.framing === Framing.Eof;
  }

  /** Nothing more belongs to this response. */
  get complete(): boolean {
    return this.framing === Framing.None || this.done;
  }

  /** A new upstream connection: nothing came past a body on it yet. */
  fresh(): void {
    this.dirty = false;
  }

  /**
   * How many bytes of `chunk` from `from` on belong to the body; sets `done`
   * when it ends there. Throws `FramingError` when a chunked body breaks
   * its grammar.
   */
  frame(chunk: Buffer, from: number): number {
    switch (this.framing) {
      case Framing.Length: {
        const n = Math.min(chunk.length - from, this.left);
        this.left -= n;
        if (this.left === 0) {
          this.done = true;
          if (from + n < chunk.length) this.dirty = true;
        }
        return n;
      }
      case Framing.Chunked: {
        const end = this.scan!.scan(chunk, from);
        if (end === -1) return chunk.length - from;
        this.done = true;
        this.scan = null;
        if (end < chunk.length) this.dirty = true;
        return end - from;
      }
      case Framing.Eof:
        return chunk.length - from;
      default:
        if (chunk.length > from) this.dirty = true;
        return 0;
    }
  }
}

import type { Pausable } from '../../connection/concurrent.js';
import { RequestBody } from '../../connection/request-body.js';
import type { RequestHead } from '../../http/request-head.js';
import type { UwsAnswer } from './answer.js';
import { rechunk } from './dechunk.js';
import type { UwsResponse } from './load.js';

/**
 * The uws engine's request body: http mode's `RequestBody` (its framing, the
 * bytes held until a server is connected and kept for a retry) fed with the
 * pieces uWS decoded, and the one lever uWS gives over them: its reading of
 * the client connection, paused (`res.pause`) while the server's socket (or
 * CONCURRENT's legs, through `UwsHttpRequest.client`) takes no more, resumed
 * on its 'drain' or when a server is connected.
 *
 * A subclass, not an object beside it: it is the request's body object
 * already (one per request, nothing more is made for this), and the pause is
 * a state of the bytes it holds back.
 *
 * Invariants:
 * - `paused` is true from a `res.pause()` until the `res.resume()` that
 *   follows it: each is called once per change, never twice in a row.
 * - uWS's response is not touched once the client went away (`answer.aborted`),
 *   and not resumed once the answer ended (`answer.ended`, set by an abort too).
 */
export class UwsRequestBody extends RequestBody implements Pausable {
  private paused = false;
  private res: UwsResponse = null!;
  /** The request was chunked: uWS hands over its data decoded. */
  private chunked = false;

  constructor(
    private readonly answer: UwsAnswer,
    retryBuffer: number,
    chunkLimit: number,
  ) {
    super(retryBuffer, chunkLimit);
  }

  /** A new request, read from `res` (this object is reused from one request to the next): `start` with its forwarded head. */
  begin(res: UwsResponse, out: Buffer, head: RequestHead, retryable: boolean): void {
    this.res = res;
    this.chunked = head.chunked;
    this.paused = false;
    this.start(out, head.chunked, head.contentLength, retryable);
  }

  /**
   * A piece of the body as uWS decoded it (`last`: the body ended), framed as
   * the server gets it; null when it makes no byte. Throws `FramingError` on
   * a body that breaks its framing.
   */
  frame(data: Buffer, last: boolean): Buffer | null {
    // The server gets a chunked body chunked again, framed by the same `RequestBody` rules as in http mode.
    const piece = this.chunked ? rechunk(data, last) : data;
    if (piece.length === 0) return null;
    return this.split(piece)[0];
  }

  pause(): void {
    if (this.paused || this.answer.aborted) return;
    this.paused = true;
    this.res.pause();
  }

  resume(): void {
    if (!this.paused || this.answer.ended) return;
    this.paused = false;
    this.res.resume();
  }
}

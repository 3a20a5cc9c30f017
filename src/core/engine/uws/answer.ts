import { ChunkDecoder } from './dechunk.js';
import type { UwsResponse } from './load.js';

/**
 * Fields uWebSockets.js writes itself, or that describe the hop and not the
 * message: they are never copied from the server's head. (It frames the
 * body on its own — `Content-Length` from `tryEnd`'s total, else chunked —
 * and writes `Date` on every answer.)
 */
const OWN = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

/** How the answer's body reaches the client through uWS. */
export const enum Body { None, Length, Chunked, Stream }

/**
 * The uws engine: the answer to one request, on its way to the client through
 * a uWebSockets.js response. The head comes from the proxy's own client head
 * (`clientHead`: hop-by-hop fields out, cookies in, URLs rewritten) and is
 * replayed field by field; the body goes by `tryEnd` when its length is
 * known (uWS then writes `Content-Length`), else by `write` (uWS chunks it),
 * a chunked body decoded first.
 *
 * Invariants (backpressure):
 * - `waiting` is the piece uWS did not take yet, from `waitingAt` (the write
 *   offset it started at): while it is set the server's socket is paused,
 *   and `onWritable` sends the rest.
 * - Nothing is written to `res` once `ended` (the answer ended, or the client went away).
 */
export class UwsAnswer {
  ended = false;
  /** Bytes written to uWS (head excluded). */
  sent = 0;
  headSent = false;
  private kind = Body.None;
  private total = 0;
  private decoder: ChunkDecoder | null = null;
  private waiting: Buffer | null = null;
  private waitingAt = 0;
  private onDrained: (() => void) | null = null;
  /** The request said `Connection: close`: uWS then closes after the answer but does not say so. */
  asked = false;
  /** The connection ends after this answer; `told`: the client was told so by a field of ours. */
  private close = false;
  private told = false;

  constructor(private readonly res: UwsResponse) {}

  /**
   * Writes the status line and fields of `head` (the client head's bytes, up to its blank line).
   * `length`: the body's length when known (-1 otherwise); `chunkedHead`: the answer to a HEAD whose GET would be chunked.
   */
  head(head: Buffer, end: number, kind: Body, length: number, close: boolean, chunkedHead = false): void {
    const res = this.res;
    const text = head.toString('latin1', 0, end);
    let at = text.indexOf('\n');
    // "HTTP/1.1 " is 9 bytes; the status line's CR is left out.
    res.writeStatus(text.slice(9, text.charCodeAt(at - 1) === 13 ? at - 1 : at));
    while (at + 1 < end) {
      const from = at + 1;
      at = text.indexOf('\n', from);
      if (at === -1) break;
      const line = text.slice(from, text.charCodeAt(at - 1) === 13 ? at - 1 : at);
      if (line === '') break;
      const colon = line.indexOf(':');
      const name = line.slice(0, colon);
      if (OWN.has(name.toLowerCase())) continue;
      res.writeHeader(name, line.slice(colon + 1).trim());
    }
    if (chunkedHead) res.writeHeader('Transfer-Encoding', 'chunked');
    // `Connection: close` is written later: uWS closes only with an `end` that writes it itself (see `tell`).
    this.close = close;
    this.told = false;
    this.headSent = true;
    this.kind = kind;
    this.total = length;
    this.decoder = kind === Body.Chunked ? new ChunkDecoder() : null;
  }

  /**
   * Body bytes (as the server framed them). Returns false when uWS holds
   * them back: the server's socket must pause until `drained` is called.
   */
  body(piece: Buffer, drained: () => void): boolean {
    if (this.ended) return true;
    switch (this.kind) {
      case Body.Length: {
        if (this.close && this.sent === 0 && piece.length === this.total) {
          // The whole body at once: uWS closes after it (and says so, unless the client did).
          if (this.asked) this.tell();
          this.res.end(piece, true);
          this.sent = piece.length;
          this.ended = true;
          return true;
        }
        this.tell();
        const at = this.res.getWriteOffset();
        const [ok, done] = this.res.tryEnd(piece, this.total);
        this.sent += piece.length;
        if (done) this.ended = true;
        if (ok || done) return true;
        this.wait(piece, at, drained);
        return false;
      }
      case Body.Chunked:
        return this.stream(this.decoder!.decode(piece), drained);
      case Body.Stream:
        return this.stream([piece], drained);
      default:
        return true;
    }
  }

  private stream(pieces: Buffer[], drained: () => void): boolean {
    this.tell();
    let ok = true;
    for (const p of pieces) {
      if (p.length === 0) continue;
      this.sent += p.length;
      ok = this.res.write(p) && ok;
    }
    if (ok) return true;
    // uWS buffered what it could not send: resume the server once it is flushed.
    this.onDrained = drained;
    this.res.onWritable(() => this.flushed());
    return false;
  }

  private wait(piece: Buffer, at: number, drained: () => void): void {
    this.waiting = piece;
    this.waitingAt = at;
    this.onDrained = drained;
    this.res.onWritable((offset) => this.retry(offset));
  }

  /** uWS can take more: the rest of the piece it held back. */
  private retry(offset: number): boolean {
    const piece = this.waiting;
    if (piece === null || this.ended) return true;
    const [ok, done] = this.res.tryEnd(piece.subarray(offset - this.waitingAt), this.total);
    if (done) this.ended = true;
    if (!ok && !done) return false;
    this.waiting = null;
    this.flushed();
    return true;
  }

  private flushed(): boolean {
    const cb = this.onDrained;
    this.onDrained = null;
    cb?.();
    return true;
  }

  /** The server's body ended: the answer ends too (a body of known length ended with its last `tryEnd`). */
  finish(close: boolean): void {
    if (this.ended) return;
    this.ended = true;
    // uWS's closeConnection is kept only by an `end` that writes the head's end: once a body byte is written
    // it would put `Connection: close` inside the body. A client told to close is left to close (uWS's idle timeout else).
    close &&= this.sent === 0 && !this.told;
    if (close && this.asked && this.kind !== Body.None) this.tell();
    if (this.kind === Body.None) {
      if (this.total >= 0 && close) {
        if (this.asked) this.tell();
        this.res.endWithoutBody(this.total, true);
      }
      else if (this.total >= 0) {
        // uWS's endWithoutBody(length) leaves the connection waiting for that body: the next request closes it.
        this.res.writeHeader('Content-Length', String(this.total));
        this.res.endWithoutBody();
      } else {
        // 204, 304: uWS would add `Content-Length: 0` to close it. No argument at all, not `undefined`:
        // uWS reads a missing length as "write none", an undefined one as a number.
        this.tell();
        this.res.endWithoutBody();
      }
    }
    else this.res.end(undefined, close);
  }

  /** The client is told the connection ends after this answer, by a field of ours (before the first body byte). */
  private tell(): void {
    if (!this.close || this.told) return;
    this.told = true;
    this.res.writeHeader('Connection', 'close');
  }

  /** An answer of the proxy's own (nothing of another was sent). */
  error(status: number, reason: string, text: string): void {
    if (this.ended) return;
    this.ended = true;
    this.res.writeStatus(`${status} ${reason}`).writeHeader('Content-Type', 'text/plain; charset=utf-8').writeHeader('Cache-Control', 'no-store');
    this.res.end(text, true);
  }

  /** Cuts the answer: the client must see a broken response, not a clean end. */
  cut(): void {
    if (this.ended) return;
    this.ended = true;
    this.res.close();
  }
}

import { nameIs } from '../../http/tokens.js';
import type { RequestHead } from '../../http/request-head.js';
import { ChunkDecoder } from './dechunk.js';
import type { UwsResponse } from './load.js';


export const EMPTY: Buffer = Buffer.alloc(0);
const NONE: readonly number[] = [];

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
  /** The client went away (uWS's `onAborted`): its response may not be touched at all, not even corked or paused. */
  aborted = false;
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
  /** `onWritable` was asked for: uWS may call back into this object later. */
  waited = false;
  private res: UwsResponse = null!;

  /** A new answer, to `res` (this object is reused from one request to the next); `asked`: see `asked`. */
  begin(res: UwsResponse, asked: boolean): void {
    this.res = res;
    this.ended = false;
    this.aborted = false;
    this.sent = 0;
    this.headSent = false;
    this.kind = Body.None;
    this.total = 0;
    this.decoder = null;
    this.waiting = null;
    this.waitingAt = 0;
    this.onDrained = null;
    this.asked = asked;
    this.close = false;
    this.told = false;
    this.waited = false;
  }

  /**
   * Writes the status line and fields of a head: its lines at `offs` of `buf`
   * (status line first, as `parseResponseHead` gives them), `cookies` (whole
   * `Set-Cookie` lines) after the status line. `length`: the body's length
   * when known (-1 otherwise); `chunkedHead`: the answer to a HEAD whose GET
   * would be chunked. Returns the bytes of head handed to uWS.
   */
  head(buf: Buffer, offs: readonly number[], cookies: readonly string[] | null, kind: Body, length: number, close: boolean, chunkedHead = false): number {
    const fields = uwsFields(buf, offs, cookies, chunkedHead);
    // One call with the whole head as bytes: uWS writes "HTTP/1.1 ", these bytes and a CRLF, then
    // its own Date and framing fields at the end. A field per `writeHeader` cost a native call
    // and two strings each (turned to UTF-8 by the binding: obs-text bytes would not pass as they came).
    this.res.writeStatus(fields);
    // `Connection: close` is written later: uWS closes only with an `end` that writes it itself (see `tell`).
    this.close = close;
    this.told = false;
    this.headSent = true;
    this.kind = kind;
    this.total = length;
    this.decoder = kind === Body.Chunked ? new ChunkDecoder() : null;
    return fields.length + 11;
  }

  private next: { buf: Buffer; offs: readonly number[]; cookies: readonly string[] | null; kind: Body; length: number; chunkedHead: boolean } | null = null;

  /** What `prepared` writes, inside the cork that follows (its arguments are those of `head`). */
  prepare(buf: Buffer, offs: readonly number[], cookies: readonly string[] | null, kind: Body, length: number, chunkedHead: boolean): void {
    const n = this.next ??= { buf, offs, cookies, kind, length, chunkedHead };
    n.buf = buf;
    n.offs = offs;
    n.cookies = cookies;
    n.kind = kind;
    n.length = length;
    n.chunkedHead = chunkedHead;
  }

  /** Writes the head `prepare` was given (once); returns its bytes. */
  prepared(close: boolean): number {
    const n = this.next!;
    const bytes = this.head(n.buf, n.offs, n.cookies, n.kind, n.length, close, n.chunkedHead);
    n.buf = EMPTY;
    n.offs = NONE;
    n.cookies = null;
    return bytes;
  }

  /**
   * Body bytes (as the server framed them). Returns false when uWS holds
   * them back: the server's socket must pause until `drained` is called.
   */
  body(piece: Buffer, drained: () => void): boolean {
    if (this.ended) return true;
    switch (this.kind) {
      case Body.Length: {
        if (this.sent === 0 && piece.length === this.total) {
          // The whole body in one piece (the usual small answer): `end` takes it all, buffering what the
          // socket cannot take yet, as `tryEnd`'s first call would. With a close, uWS closes after it (and
          // says so, unless the client asked for it).
          if (this.close && this.asked) this.tell();
          this.sent = piece.length;
          this.ended = true;
          this.res.end(piece, this.close);
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
    this.waited = true;
    this.res.onWritable(() => this.flushed());
    return false;
  }

  private wait(piece: Buffer, at: number, drained: () => void): void {
    this.waiting = piece;
    this.waitingAt = at;
    this.onDrained = drained;
    this.waited = true;
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

  /** uWS said the client went away: nothing more is written. */
  abort(): void {
    this.aborted = true;
    this.ended = true;
  }

  /** Cuts the answer: the client must see a broken response, not a clean end. */
  cut(): void {
    if (this.ended) return;
    this.ended = true;
    this.res.close();
  }
}

/**
 * Whether the field line at `at` (`n` bytes) is one uWebSockets.js writes
 * itself, or that describes the hop and not the message: such a line is
 * never copied from the server's head. (uWS frames the body on its own —
 * `Content-Length` from `end`'s or `tryEnd`'s total, else chunked — and
 * writes `Date` on every answer.) Names are matched with their colon: the
 * parser refused any space before it.
 */
function isOwn(buf: Buffer, at: number, n: number): boolean {
  switch (buf[at]! | 0x20) {
    case 0x63: return n >= 15 && nameIs(buf, at, 'content-length:') || n >= 11 && nameIs(buf, at, 'connection:');
    case 0x64: return n >= 5 && nameIs(buf, at, 'date:');
    case 0x6b: return n >= 11 && nameIs(buf, at, 'keep-alive:');
    case 0x74: return n >= 18 && nameIs(buf, at, 'transfer-encoding:');
    default: return false;
  }
}

/** Grown to the largest head seen: `writeStatus` copies what it is given before it returns. */
let scratch = Buffer.allocUnsafe(4096);

/**
 * What `writeStatus` gets: the status line after its "HTTP/1.x " and the
 * fields the client gets, CRLF between lines and none after the last (uWS
 * writes that one). Lines keep the bytes the server sent.
 */
function uwsFields(buf: Buffer, offs: readonly number[], cookies: readonly string[] | null, chunkedHead: boolean): Buffer {
  let size = offs[1]! - offs[0]! - 9;
  if (cookies !== null) for (const c of cookies) size += c.length;
  for (let i = 2; i < offs.length; i += 2) size += offs[i + 1]! - offs[i]! + 2;
  size += 28;
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, scratch.length * 2));
  const out = scratch;
  // Byte loops, not `buf.copy`: lines are tens of bytes, and a copy call per line cost more than the bytes (measured ~3x).
  let at = 0;
  for (let k = offs[0]! + 9, e = offs[1]!; k < e; k++) out[at++] = buf[k]!;
  if (cookies !== null) {
    for (const c of cookies) {
      out[at++] = 0x0d;
      out[at++] = 0x0a;
      // A cookie line ends in its own CRLF: the next line's CRLF goes before it instead.
      at += out.write(c, at, c.length - 2, 'latin1');
    }
  }
  for (let i = 2; i < offs.length; i += 2) {
    const a = offs[i]!;
    const b = offs[i + 1]!;
    if (isOwn(buf, a, b - a)) continue;
    out[at++] = 0x0d;
    out[at++] = 0x0a;
    for (let k = a; k < b; k++) out[at++] = buf[k]!;
  }
  if (chunkedHead) at += out.write('\r\nTransfer-Encoding: chunked', at, 'latin1');
  return out.subarray(0, at);
}

/** Line offsets of a head the proxy built (CRLF lines, up to its blank line), as `parseResponseHead` gives them. */
export function lineOffsets(head: Buffer, offs: number[]): number[] {
  offs.length = 0;
  let from = 0;
  for (;;) {
    const nl = head.indexOf(0x0a, from);
    if (nl === -1) break;
    const end = nl > from && head[nl - 1] === 0x0d ? nl - 1 : nl;
    if (end === from) break;
    offs.push(from, end);
    from = nl + 1;
  }
  return offs;
}

/** The request's `Connection` is exactly `close`: uWS reads that one (and only that one) as the client's own close. */
export function saysCloseOnly(head: RequestHead): boolean {
  for (const [name, value] of head.headers) if (name.length === 10 && name.toLowerCase() === 'connection') return value.trim().toLowerCase() === 'close';
  return false;
}

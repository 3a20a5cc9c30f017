import type net from 'node:net';
import type { PoolUser, UpstreamPool } from '../upstream/pool.js';
import { ResponseHeadReader } from './head-reader.js';
import { ResponseBody } from './response-body.js';

/**
 * Bytes of a losing answer read to keep its connection: a short answer (an
 * API's JSON, a page) ends well within it; a download does not, and is cut.
 */
export const LOSER_READ_LIMIT = 65_536;

/**
 * http mode's CONCURRENT loser: its pooled connection carried the whole
 * request and owes an answer nobody reads. Closing it costs a new connection
 * (connect, and the server's accept) on a later request; reading the answer
 * to its end costs little when it is short. So the answer is read here — its
 * head by the one head reader, its body by the one framing — and the
 * connection goes back to the pool when the answer ended cleanly within
 * `limit` bytes; anything else (more bytes, a close-delimited or unusable
 * answer, a FIN, an error, a byte past the end, or the CONCURRENT deadline,
 * `cut`) closes it, as before.
 *
 * Invariant: `over` once the socket was released or discarded; from then on
 * no event reaches this object (the pool has another user or none).
 */
export class LoserDrain implements PoolUser {
  over = false;
  private heads: ResponseHeadReader | null;
  /** Past `limit` with a tap still reading: the connection closes once the tap is done. */
  private spent = false;
  private readonly body: ResponseBody;
  private left: number;

  /**
   * @param buffered what the leg read of the answer so far (its head may be incomplete).
   * @param done told once, when the connection was released or closed.
   * @param tap also reads the answer (to compare it), bounded by its own rules, not by `limit`.
   */
  constructor(
    private readonly pool: UpstreamPool,
    private readonly socket: net.Socket,
    private readonly method: string,
    headLimit: number,
    limit: number,
    private readonly done: (d: LoserDrain) => void,
    private readonly tap: Tap | null = null,
  ) {
    this.heads = new ResponseHeadReader(headLimit);
    this.body = new ResponseBody(headLimit);
    this.left = limit;
    pool.lend(socket, this);
  }

  /** Reads what the leg buffered; the socket flows again if more is needed. */
  start(buffered: readonly Buffer[]): void {
    for (const d of buffered) {
      this.upstreamData(this.socket, d);
      if (this.over) return;
    }
    this.socket.resume();
  }

  upstreamData(_socket: net.Socket, chunk: Buffer): void {
    if (this.over) return;
    const tap = this.tap;
    if (tap !== null) {
      tap.feed(chunk);
      if (tap.over && this.spent) {
        this.close(false);
        return;
      }
    }
    if (this.spent) return;
    this.left -= chunk.length;
    if (this.left < 0) {
      if (tap === null || tap.over) this.close(false);
      else this.spent = true;
      return;
    }
    const heads = this.heads;
    if (heads !== null) {
      const info = heads.final(chunk, noInterim);
      if (info === null) return;
      if (typeof info === 'string' || info.status === 101) {
        this.close(false);
        return;
      }
      const body = this.body;
      body.begin(info, this.method);
      // Known to run past the bound, or to the server's close: not worth reading.
      if (body.toEof || info.contentLength > this.left) {
        if (tap === null || tap.over) this.close(false);
        else this.spent = true;
        return;
      }
      this.heads = null;
      const bytes = heads.bytes;
      if (body.complete) {
        this.close(!body.closes && info.end === bytes.length);
        return;
      }
      if (info.end < bytes.length) this.frame(bytes, info.end);
      return;
    }
    this.frame(chunk, 0);
  }

  private frame(chunk: Buffer, from: number): void {
    const body = this.body;
    try {
      body.frame(chunk, from);
    } catch {
      this.close(false);
      return;
    }
    if (body.done) this.close(!body.closes && !body.dirty);
  }

  upstreamEnd(): void {
    // A body that runs to the close is complete for the tap; the connection is not kept.
    this.tap?.end();
    this.close(false);
  }

  upstreamError(): void { this.close(false); }
  upstreamClose(): void { this.close(false); }
  upstreamDrain(): void {}

  /** The deadline passed before the answer ended. */
  cut(): void { this.close(false); }

  private close(reusable: boolean): void {
    if (this.over) return;
    this.over = true;
    // The framing here and the tap's agree on where an answer ends; a tap still reading is given up.
    this.tap?.fail();
    const s = this.socket;
    if (reusable && !s.readableEnded) this.pool.release(s);
    else this.pool.discard(s);
    this.done(this);
  }
}

/** Another reader of the same answer (`AnswerReader`, comparing it). */
export interface Tap {
  readonly over: boolean;
  feed(chunk: Buffer): void;
  /** The server closed. */
  end(): void;
  /** Given up. */
  fail(): void;
}

function noInterim(): void {}

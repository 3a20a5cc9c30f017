import type net from 'node:net';
import { ChunkedScanner } from '../http/chunked.js';

/**
 * The request in flight in http mode, as bytes: where its body ends, and what
 * is kept of it.
 *
 * Invariants:
 * - `held`: request bytes (the forwarded head, then body pieces the framing
 *   accepted) not yet written to an upstream, in order.
 * - `sent`: bytes written to the current upstream, kept while the request
 *   may be sent again and they fit `limits.retryBuffer`; null once they do
 *   not (or the method is not idempotent): a failure is then answered, not
 *   retried.
 * - Only bytes the framing accepted are ever held or written: a malformed
 *   chunk line is refused before it reaches a server.
 */
export class RequestBody {
  /** The body's last byte was framed. */
  done = true;
  /** Chunked trailer fields were seen (a doubtful framing: see `isAmbiguous`). */
  trailers = false;
  private left = 0;
  private scan: ChunkedScanner | null = null;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private sent: Buffer[] | null = null;
  private sentBytes = 0;

  constructor(
    private readonly retryBuffer: number,
    /** Bytes allowed for chunk extensions and trailers. */
    private readonly chunkLimit: number,
  ) {}

  /** A new request: its forwarded head is held first. */
  start(head: Buffer, chunked: boolean, contentLength: number, retryable: boolean): void {
    this.held = [head];
    this.heldBytes = head.length;
    this.sent = retryable ? [] : null;
    this.sentBytes = 0;
    this.trailers = false;
    this.scan = chunked ? new ChunkedScanner(this.chunkLimit) : null;
    this.left = chunked ? 0 : Math.max(0, contentLength);
    this.done = !chunked && this.left === 0;
  }

  /**
   * Splits client bytes into the part that belongs to this request's body
   * and what follows it (the next request, or null). Throws `FramingError`
   * on a malformed chunked body.
   */
  split(chunk: Buffer): [piece: Buffer, rest: Buffer | null] {
    if (this.scan !== null) {
      const end = this.scan.scan(chunk, 0);
      if (end === -1) return [chunk, null];
      this.done = true;
      this.trailers = this.scan.trailers;
      this.scan = null;
      return end < chunk.length ? [chunk.subarray(0, end), chunk.subarray(end)] : [chunk, null];
    }
    const n = this.left;
    const piece = n < chunk.length ? chunk.subarray(0, n) : chunk;
    this.left -= piece.length;
    if (this.left === 0) this.done = true;
    return [piece, n < chunk.length ? chunk.subarray(n) : null];
  }

  /** Holds a piece for an upstream not connected yet. True: more is held than a retry could replay (stop reading). */
  hold(piece: Buffer): boolean {
    this.held.push(piece);
    this.heldBytes += piece.length;
    return this.heldBytes > Math.max(this.retryBuffer, 16384);
  }

  /**
   * A piece of the body goes on: to `up` (kept for a retry while it fits),
   * to CONCURRENT's `legs`, or held until an upstream is connected. True:
   * the client must stop sending for now (`up` is full, or enough is held).
   */
  send(piece: Buffer, up: net.Socket | null, legs: { body(piece: Buffer): void } | null): boolean {
    if (up !== null) {
      this.wrote(piece);
      return !up.write(piece);
    }
    if (legs !== null) {
      legs.body(piece);
      return false;
    }
    return this.hold(piece);
  }

  /** A piece went to the upstream: kept for a retry while it fits. */
  wrote(piece: Buffer): void {
    const sent = this.sent;
    if (sent === null) return;
    this.sentBytes += piece.length;
    if (this.sentBytes > this.retryBuffer) {
      this.sent = null;
      return;
    }
    sent.push(piece);
  }

  /** Writes what is held to `socket`, in one corked batch. */
  flush(socket: net.Socket): void {
    const held = this.held;
    if (held.length > 1) socket.cork();
    for (let i = 0; i < held.length; i++) {
      const piece = held[i]!;
      this.wrote(piece);
      socket.write(piece);
    }
    if (held.length > 1) socket.uncork();
    this.held = [];
    this.heldBytes = 0;
  }

  /** Every byte sent so far is kept: the request can go again from its first byte. */
  get replayable(): boolean {
    return this.sent !== null;
  }

  /** The request goes again from its first byte: what was sent is held again. */
  replay(): void {
    this.held = this.sent!.concat(this.held);
    this.heldBytes = this.sentBytes;
    this.sent = [];
    this.sentBytes = 0;
  }

  // CONCURRENT: every leg needs the whole request, so it stays held while legs connect.

  /** What is held, for a leg that just connected; empty once it was dropped (`dropHeld`). */
  get heldPieces(): readonly Buffer[] {
    return this.held;
  }

  /** A body piece while legs are out: kept for legs still connecting. True: more than the retry buffer is kept. */
  keepForLegs(piece: Buffer): boolean {
    if (this.held.length === 0) return false;
    this.held.push(piece);
    this.heldBytes += piece.length;
    return this.heldBytes > this.retryBuffer;
  }

  /** Too much to replay: from here on a failure is answered, not retried. */
  dropHeld(): void {
    this.held = [];
    this.heldBytes = 0;
  }

  /** Whether more than the retry buffer is held. */
  get overBudget(): boolean {
    return this.heldBytes > this.retryBuffer;
  }

  /** The winning leg took the request as written to every leg: that is what a retry replays. */
  heldWereSent(retryable: boolean): void {
    this.sent = retryable && this.held.length !== 0 ? this.held : null;
    this.sentBytes = this.heldBytes;
    this.held = [];
    this.heldBytes = 0;
  }

  /** The request is over (answered, or given up): nothing is kept. */
  clear(): void {
    this.held = [];
    this.heldBytes = 0;
    this.sent = null;
    this.sentBytes = 0;
  }
}

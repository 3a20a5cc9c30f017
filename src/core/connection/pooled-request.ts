import type net from 'node:net';
import { FirstByteTimeoutError, type UpshiftError } from '../errors.js';
import type { ResponseHead } from '../http/response-head.js';
import type { VersionState } from '../routing/version.js';
import type { Candidate } from '../upstream/dial.js';
import type { PoolUser, UpstreamPool } from '../upstream/pool.js';
import type { ServerState } from '../upstream/server.js';
import type { Attempt, AttemptOwner } from './attempt.js';
import type { Concurrent, Pausable } from './concurrent.js';
import type { HttpLegOwner } from './concurrent-legs.js';
import type { ClientSide, DialCallback, Exchange } from './exchange.js';
import type { RequestBody } from './request-body.js';
import type { ResponseBody } from './response-body.js';

/**
 * What http mode's `HttpRequest` and the uws engine's `UwsHttpRequest` share:
 * a request sent over pooled server connections, through an `Exchange` and
 * one `Attempt` at a time. Here is failover's side of it (`AttemptOwner`:
 * what failover is told of the client, the dropped upstream, the redial, the
 * first-byte deadline), the dial loop's answer, CONCURRENT's fallback, a
 * server connection lost, and the rule for when a server's connection goes
 * back to the pool. One copy, so the two engines cannot drift apart on when
 * a request is retried or a connection reused.
 *
 * The two differ in their client, and that is all that is left to them:
 * http mode writes to a socket of its own connection (`RequestOwner`), which
 * outlives the request (phase `idle` between requests); the uws engine
 * answers through a uWS response, one object per request (phase `done` at its
 * end). So a subclass says what failover needs of its client (`answered`,
 * `clientOpen`), how an upstream that was just dialed gets the request
 * (`connected`), how an answer is refused (`fail`) or cut (`cut`), and where
 * a socket error is noted (`noteError`).
 *
 * A method call through this class is all it costs: it makes no object per
 * request (the dial callback is made once per instance, when first needed).
 */
export abstract class PooledRequest<Off extends string> implements PoolUser, AttemptOwner, HttpLegOwner {
  abstract phase: 'routing' | 'concurrent' | 'exchange' | Off;
  /** The request's way through its plan (accounting, failover, judgement's record). */
  protected ex: Exchange | null = null;
  protected concurrent: Concurrent | null = null;
  /** See `isAmbiguous`: answered, then neither connection carries another message. */
  protected ambiguous = false;
  private dialedFn: DialCallback | null = null;

  /** The request's framing and the bytes held and kept of it. */
  abstract readonly body: RequestBody;
  abstract readonly pool: UpstreamPool;
  /** The upstream, until its head is kept, and its first-byte deadline. */
  protected abstract readonly att: Attempt;
  abstract readonly client: Pausable;
  abstract readonly clientOpen: boolean;
  /** A byte of an answer reached the client: no other answer can take its place (failover's `answered`). */
  protected abstract readonly answered: boolean;

  /** `socket` (just dialed, or just taken from the pool) is the request's upstream now: it gets the request held so far. */
  protected abstract connected(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean): void;
  /** No retry: the client is answered with `err` (or its answer is cut, when it began). */
  abstract fail(err: UpshiftError): void;
  /** The answer cannot be completed: the client must see it cut, not a clean end. */
  protected abstract cut(reason: string): void;
  /** A server connection's error, for the close report. */
  protected abstract noteError(code: string): void;

  abstract upstreamData(socket: net.Socket, chunk: Buffer): void;
  abstract upstreamEnd(socket: net.Socket): void;
  abstract upstreamDrain(socket: net.Socket): void;
  abstract interim(buf: Buffer, end: number): void;
  abstract answerHead(info: ResponseHead): void;
  abstract adopt(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean, buffered: Buffer | null): void;

  // Made when first needed: a request that finds a pooled connection never dials.
  protected get dialedCb(): DialCallback {
    return this.dialedFn ??= (err, c, socket) => this.dialed(err, c, socket);
  }

  private dialed(err: Error | null, c?: Candidate, socket?: net.Socket): void {
    const reused = this.ex?.takeReused() ?? false;
    if (this.phase !== 'routing') {
      if (socket !== undefined) this.pool.unwanted(socket, c!.server, reused);
      return;
    }
    if (err !== null || c === undefined || socket === undefined) {
      this.fail(this.ex!.answerFor(err as UpshiftError));
      return;
    }
    if (!reused) this.pool.adopt(socket, c.server, this);
    this.connected(c.version, c.server, socket, reused);
  }

  /** CONCURRENT failed on every leg without an answer: fall back through the rest of the plan. */
  fallbackFrom(rest: readonly VersionState[], err: UpshiftError): void {
    this.concurrent = null;
    // The whole request is still held unless it outgrew the retry buffer.
    if (rest.length === 0 || this.body.heldPieces.length === 0 || !this.clientOpen) {
      this.fail(err);
      return;
    }
    this.phase = 'routing';
    this.ex!.fallBack(rest);
    this.ex!.dial(this.dialedCb);
  }

  /**
   * The answer was read to the end by its framing (`rb`): the server's
   * connection goes back to the pool only if the request was sent whole, the
   * server did not ask to close, and no byte followed; else it is closed.
   * `now` (a clock reading the caller already has) dates its idle time.
   */
  protected putBack(socket: net.Socket, rb: ResponseBody, now = Date.now()): void {
    if (!rb.closes && this.body.done && !rb.dirty && !this.ambiguous && !socket.readableEnded) {
      socket.resume();
      this.pool.release(socket, now);
    } else {
      this.pool.discard(socket);
    }
  }

  upstreamError(socket: net.Socket, err: Error): void {
    if (socket !== this.att.socket) return;
    this.noteError((err as NodeJS.ErrnoException).code ?? err.message);
    this.upstreamGone();
  }

  upstreamClose(socket: net.Socket): void {
    if (socket === this.att.socket) this.upstreamGone();
  }

  /** Before a kept head, failover decides what a lost server means (`Attempt.closed`); after it, the answer is cut. */
  private upstreamGone(): void {
    if (this.phase !== 'exchange') return;
    if (this.att.inHead) this.att.closed();
    else this.cut('upstream reset mid-response');
  }

  // ------------------------------------------------------------ failover's side

  /** What failover needs to know of the client's side of the request. */
  side(partial: boolean): ClientSide {
    return { answered: this.answered, replayable: this.body.replayable, clientOpen: this.clientOpen, partial };
  }

  /** An attempt's socket that carries nothing more: a pooled connection is closed, never reused. */
  release(socket: net.Socket): void {
    this.pool.discard(socket);
  }

  /** Sends the request again, from its first byte, to the next candidate. */
  redial(): void {
    this.body.replay();
    this.phase = 'routing';
    this.ex!.dial(this.dialedCb);
  }

  firstByteTimeout(): void {
    const att = this.att;
    if (this.phase === 'exchange' && att.inHead) att.failed(new FirstByteTimeoutError(att.server!.key), 'timeout');
  }
}

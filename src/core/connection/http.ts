import type net from 'node:net';
import type { ProxyContext } from '../context.js';
import { BadRequestError, HeadTimeoutError, toHttpStatus, type UpshiftError } from '../errors.js';
import { refusal } from '../http/request-checks.js';
import { errorResponse } from '../http/responses.js';
import type { UpstreamPool } from '../upstream/pool.js';
import { listenToClient, type ClientHandler } from './client-socket.js';
import type { Connection } from './connection.js';
import { Activity, answerLast, endClient } from './endings.js';
import { HttpRequest, type RequestOwner } from './http-request.js';
import { reportClosed } from './report.js';
import { RequestHeadReader } from './request-reader.js';

/**
 * http mode: one client connection carrying any number of requests, each
 * framed, routed by its own cookies and sent on a pooled upstream connection
 * (`HttpRequest`, the request in flight).
 *
 *   head ──▶ request ──▶ (answer written to the end) ──▶ head …
 *     │         └──▶ (a 101 to a WebSocket upgrade: piped until both ends close)
 *     └──▶ closing (400/408/431/502/503/504 written, or Connection: close honoured)
 *
 * Invariants:
 * - One request is in flight at a time. Bytes of pipelined requests wait in
 *   the request head reader (the client is paused once they exceed `limits.headSize`) and
 *   are parsed only after the current response was written: responses leave
 *   in request order by construction.
 * - Backpressure: a write that returns false pauses the other side; 'drain'
 *   resumes it.
 * - Socket handlers are module functions (client) or the pool's (upstream):
 *   no closures per connection or per request.
 * - Timeouts are found by the proxy's periodic `sweep`, not by timers (but a
 *   short first-byte deadline): a timer per connection (and a socket timeout
 *   re-armed on every read and write) costs more than a short request.
 */
export type HttpState = 'head' | 'request' | 'closing' | 'closed';

export class HttpConnection implements Connection, ClientHandler, RequestOwner {
  state: HttpState = 'head';
  readonly client: net.Socket;
  clientOpen = true;
  clientEnded = false;
  /** Reads request heads; keeps the bytes of pipelined requests behind the current one. */
  private readonly heads: RequestHeadReader;
  /** The request in flight (one object, reused for each request). */
  private readonly request: HttpRequest;

  bytesIn = 0;
  bytesOut = 0;
  requests = 0;
  status: number | undefined;
  error: string | undefined;
  private readonly started = Date.now();
  /**
   * When the head being read started ('head'), or when the closing began
   * ('closing', while `lingering`).
   */
  private since = this.started;
  private lingering = false;
  /** Pipelined requests wait for the client to read the answers so far. */
  private awaitDrain = false;
  private readonly activity = new Activity(0, this.started);

  constructor(
    readonly id: number,
    readonly ctx: ProxyContext,
    client: net.Socket,
    pool: UpstreamPool,
  ) {
    this.client = client;
    this.heads = new RequestHeadReader(ctx.opts.limits.headSize);
    this.request = new HttpRequest(this, ctx, pool);
    listenToClient(client, this);
  }

  // ---------------------------------------------------------------- client side

  clientData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    switch (this.state) {
      case 'head':
        this.headBytes(chunk);
        return;
      case 'request':
        this.request.clientData(chunk);
        return;
      default:
        // closing / closed: the answer is written; the rest is discarded.
    }
  }

  /** Keeps bytes that follow the current request (pipelining) for later. */
  queue(rest: Buffer): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    if (this.heads.queue(rest) > this.ctx.opts.limits.headSize) this.client.pause();
  }

  takeEarly(): Buffer | null {
    return this.heads.take();
  }

  /** `chunk` continues a request head (null: look again at what is pending). */
  private headBytes(chunk: Buffer | null): void {
    const heads = this.heads;
    const wasInPieces = heads.inPieces;
    const r = heads.feed(chunk);
    if (r === null) {
      // A head in pieces: its time counts from now (the first one's from the connection's start).
      if (!wasInPieces && heads.inPieces && this.requests > 0) this.since = Date.now();
      return;
    }
    if (!('head' in r)) {
      this.fail(r);
      return;
    }
    const refused = refusal(r.head);
    if (refused !== 0) {
      this.reject(refused);
      return;
    }
    this.requests++;
    this.state = 'request';
    this.request.start(r.head, r.buf, r.end);
  }

  clientEnd(): void {
    this.clientEnded = true;
    switch (this.state) {
      case 'head':
        if (this.heads.pending !== null) this.fail(new BadRequestError('incomplete request head'));
        else this.close();
        return;
      case 'request':
        this.request.clientEnd();
        return;
      default:
    }
  }

  clientClose(): void {
    this.clientOpen = false;
    if (this.state !== 'closed') this.state = 'closing';
    this.request.clientGone();
    this.finish();
  }

  clientDrained(): void {
    if (this.awaitDrain) {
      this.awaitDrain = false;
      if (this.state === 'head') this.nextRequest();
      return;
    }
    if (this.state === 'request') this.request.clientDrained();
  }

  // ------------------------------------------------------- the request's news

  wrote(n: number): void {
    this.bytesOut += n;
  }

  answered(status: number): void {
    this.status = status;
  }

  noteError(code: string): void {
    this.error = code;
  }

  /** The answer was written to the end: serve the next request, or close. */
  done(close: boolean, quiet: boolean): void {
    if (close || this.ctx.draining) {
      this.close(quiet && this.heads.pending === null);
      return;
    }
    this.state = 'head';
    if (this.heads.pending !== null && this.client.writableNeedDrain) {
      // Pipelined requests from a client that does not read its answers:
      // the next one waits until the answers so far have left.
      this.client.pause();
      this.awaitDrain = true;
      return;
    }
    this.nextRequest();
  }

  private nextRequest(): void {
    if (this.heads.pending !== null) {
      this.headBytes(null);
      if (this.state === 'head' && !this.clientEnded) this.client.resume();
    } else if (this.clientEnded) {
      this.close(true);
    } else {
      this.client.resume();
    }
  }

  // ------------------------------------------------------------------ endings

  /** Answers `status` itself (nothing forwarded) and closes. */
  private reject(status: number): void {
    this.status = status;
    this.error = `rejected ${status}`;
    this.answerAndClose(errorResponse(status));
  }

  /** Answers the client with the error's status (nothing of this response was sent yet) and closes. */
  fail(err: UpshiftError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.error = err.code;
    this.status = toHttpStatus(err);
    if (this.request.partly) {
      this.abort(err.code);
      return;
    }
    this.answerAndClose(errorResponse(this.status));
  }

  private answerAndClose(response: Buffer): void {
    this.state = 'closing';
    this.dropRequest();
    if (!answerLast(this.client, this.clientOpen, response, false)) return;
    this.bytesOut += response.length;
    this.linger();
  }

  /** Ends a client connection whose exchanges are complete. */
  private close(quiet = false): void {
    this.state = 'closing';
    if (endClient(this.client, this.clientOpen, quiet)) this.linger();
  }

  private dropRequest(): void {
    this.request.stop();
    this.heads.take();
  }

  /** Closes everything at once, without an answer. */
  abort(reason: string | undefined): void {
    if (reason !== undefined && this.error === undefined) this.error = reason;
    if (this.state !== 'closed') this.state = 'closing';
    this.dropRequest();
    if (this.clientOpen) this.client.destroy();
  }

  idle(): void {
    if (this.state === 'head' && this.heads.pending === null) this.close();
    else this.abort('idle timeout');
  }

  private linger(): void {
    this.lingering = true;
    this.since = Date.now();
  }

  /** Called by the proxy's sweep: the head, first-byte, linger and idle timeouts. */
  sweep(now: number): void {
    const t = this.ctx.opts.timeouts;
    switch (this.state) {
      case 'head':
        if ((this.bytesIn === 0 || this.heads.pending !== null) && now - this.since >= t.head) {
          this.headTimeout();
          return;
        }
        break;
      case 'closing':
        if (this.lingering && now - this.since >= t.linger) {
          this.lingering = false;
          this.lingerTimeout();
        }
        return;
      case 'closed':
        return;
      case 'request':
        if (this.request.due(now)) {
          this.request.firstByteTimeout();
          return;
        }
        break;
      default:
    }
    if (this.activity.idle(this.bytesIn + this.bytesOut, now, t.idle)) this.idle();
  }

  headTimeout(): void {
    if (this.state !== 'head') return;
    // A connection that never said anything gets no answer, just a close.
    if (this.bytesIn === 0) this.abort('head timeout');
    else if (this.heads.pending !== null) this.fail(new HeadTimeoutError());
  }

  lingerTimeout(): void {
    if (this.clientOpen) this.client.destroy();
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.dropRequest();
    // However it ended (a tunnel's client closing first leaves no upstream to drop), a closed connection holds no version open.
    this.request.version?.open.delete(this);
    reportClosed(this.ctx, this, this.request.version, this.started);
  }

  /** http mode ends after the answer in flight by itself (it reads `ctx.draining`). */
  drain(_now: number): void {}

  /** Ends the connection now (drain deadline passed, or its version was removed). */
  destroy(): void {
    this.abort('closed by proxy');
  }

  /** True while no request is in flight and none has started (safe to drop when closing). */
  get idleBeforeHead(): boolean {
    return this.state === 'head' && this.heads.pending === null;
  }
}

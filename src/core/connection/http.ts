import type net from 'node:net';
import type { ProxyContext } from '../context.js';
import { BadRequestError, HeadTimeoutError, toHttpStatus, type UpshiftError } from '../errors.js';
import { refusal } from '../http/request-checks.js';
import { errorResponse } from '../http/responses.js';
import type { VersionState } from '../routing/version.js';
import type { PoolUser, UpstreamPool } from '../upstream/pool.js';
import { listenToClient, type ClientHandler } from './client-socket.js';
import type { Connection } from './connection.js';
import { Activity, answerLast, endClient } from './endings.js';
import { HttpRequest } from './http-request.js';
import type { RequestOwner } from './request-owner.js';
import { reportClosed } from './report.js';
import { RequestHeadReader } from './request-reader.js';
import { Tunnel } from './tunnel.js';

/**
 * http mode: one client connection carrying any number of requests, each
 * framed, routed by its own cookies and sent on a pooled upstream connection
 * (`HttpRequest`, the request in flight).
 *
 *   head ──▶ request ──▶ (answer written to the end) ──▶ head …
 *     │         └──▶ tunnel (a 101 to a WebSocket upgrade: piped until both ends close)
 *     └──▶ closing (400/408/431/502/503/504 written, or Connection: close honoured)
 *
 * Invariants:
 * - One request is in flight at a time. Bytes of pipelined requests wait in
 *   the request head reader (the client is paused once they exceed `limits.headSize`) and
 *   are parsed only after the current response was written: responses leave
 *   in request order by construction.
 * - Backpressure: a write that returns false pauses the other side; 'drain'
 *   resumes it.
 * - Socket handlers are module functions (client) or the pool's (upstream:
 *   the request's, or this connection's once it is a tunnel): no closures
 *   per connection or per request.
 * - Timeouts are found by the proxy's periodic `sweep`, not by timers (but a
 *   short first-byte deadline): a timer per connection (and a socket timeout
 *   re-armed on every read and write) costs more than a short request.
 */
export type HttpState = 'head' | 'request' | 'tunnel' | 'closing' | 'closed';

export class HttpConnection implements Connection, ClientHandler, RequestOwner, PoolUser {
  state: HttpState = 'head';
  readonly client: net.Socket;
  clientOpen = true;
  clientEnded = false;
  /** Reads request heads; keeps the bytes of pipelined requests behind the current one. */
  private readonly heads: RequestHeadReader;
  /** The request in flight (one object, reused for each request). */
  private readonly request: HttpRequest;
  /** After a 101 to a WebSocket upgrade: the pipe, and its upstream until that closes (of `pipedVersion`). */
  private tunnel: Tunnel | null = null;
  private piped: net.Socket | null = null;
  private pipedVersion: VersionState | null = null;

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
    private readonly pool: UpstreamPool,
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
      case 'tunnel':
        this.tunnel!.fromClient(chunk);
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
      case 'tunnel':
        this.tunnel!.clientEnded();
        return;
      default:
    }
  }

  clientClose(): void {
    this.clientOpen = false;
    if (this.state !== 'closed') this.state = 'closing';
    this.request.clientGone();
    const up = this.unpipe();
    // A tunnel whose two sides both ended closes by itself once flushed.
    if (up !== null && !(up.writableEnded && up.readableEnded)) this.pool.discard(up);
    this.finish();
  }

  clientDrained(): void {
    if (this.awaitDrain) {
      this.awaitDrain = false;
      if (this.state === 'head') this.nextRequest();
      return;
    }
    if (this.state === 'request') this.request.clientDrained();
    else if (this.state === 'tunnel') this.piped?.resume();
  }

  // ------------------------------------------------- a WebSocket tunnel's upstream

  upgraded(up: net.Socket, v: VersionState, head: Buffer, rest: Buffer | null): void {
    this.state = 'tunnel';
    this.pool.lend(up, this);
    this.piped = up;
    this.pipedVersion = v;
    v.open.add(this);
    const tunnel = this.tunnel = new Tunnel(this.client, up);
    // Bytes the client sent after its upgrade request belong to the new protocol.
    this.bytesOut += tunnel.upgrade(head, rest, this.heads.take(), this.clientEnded);
  }

  upstreamData(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.piped) return;
    this.bytesOut += chunk.length;
    this.tunnel!.fromUpstream(chunk);
  }

  upstreamEnd(socket: net.Socket): void {
    if (socket === this.piped) this.tunnel!.upstreamEnded();
  }

  upstreamError(socket: net.Socket, err: Error): void {
    if (socket !== this.piped) return;
    this.error = (err as NodeJS.ErrnoException).code ?? err.message;
    this.pool.discard(this.unpipe()!);
    if (this.clientOpen) this.client.destroy();
  }

  upstreamClose(socket: net.Socket): void {
    if (socket !== this.piped) return;
    this.unpipe();
    this.tunnel!.upstreamClosed(this.clientOpen);
  }

  upstreamDrain(socket: net.Socket): void {
    if (socket === this.piped && this.clientOpen) this.client.resume();
  }

  /** Forgets the tunnel's upstream (it closed, or is closed now); returns it. */
  private unpipe(): net.Socket | null {
    const up = this.piped;
    if (up === null) return null;
    this.piped = null;
    this.pipedVersion!.open.delete(this);
    return up;
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
    const up = this.unpipe();
    if (up !== null) this.pool.discard(up);
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

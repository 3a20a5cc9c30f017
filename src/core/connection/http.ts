import type net from 'node:net';
import type { ProxyContext } from '../context.js';
import {
  BadRequestError, BadResponseError, FirstByteTimeoutError, HeadTimeoutError,
  NoUpstreamError, UpstreamClosedError, toHttpStatus, type UpshiftError,
} from '../errors.js';
import { forwardWith } from '../http/forward-request.js';
import { isAmbiguous, isWebSocket, refusal } from '../http/request-checks.js';
import type { RequestHead } from '../http/request-head.js';
import { errorResponse } from '../http/responses.js';
import { route } from '../routing/router.js';
import type { Plan } from '../routing/strategies/index.js';
import type { VersionState } from '../routing/version.js';
import type { Candidate } from '../upstream/dial.js';
import { isIdempotent } from '../upstream/failover.js';
import type { PoolUser, UpstreamPool } from '../upstream/pool.js';
import type { ServerState } from '../upstream/server.js';
import { listenToClient, type ClientHandler } from './client-socket.js';
import type { Connection } from './connection.js';
import { Activity, answerLast, endClient } from './endings.js';
import { HttpResponse } from './http-response.js';
import { RequestHeadReader } from './request-reader.js';
import { RequestBody } from './request-body.js';
import { Tunnel } from './tunnel.js';
import { Exchange, planFor, type ClientSide } from './exchange.js';
import { Concurrent } from './concurrent.js';
import { PooledLegs, type HttpLegOwner } from './concurrent-legs.js';
import * as report from './report.js';

/**
 * http mode: one client connection carrying any number of requests, each
 * framed, routed by its own cookies and sent on a pooled upstream connection.
 *
 *   head ──▶ routing ──▶ exchange ──▶ (response read to the end) ──▶ head …
 *     │         │  ▲          │  └──▶ tunnel (101 to a WebSocket upgrade)
 *     │         │  └─ retry ──┘ (failure before any response byte, idempotent, replay kept)
 *     │         └──▶ concurrent ──▶ (winner adopted) exchange
 *     └──▶ closing (400/408/431/502/503/504 written, or Connection: close honoured)
 *
 * Invariants:
 * - One request is in flight at a time. Bytes of pipelined requests wait in
 *   the request head reader (the client is paused once they exceed `limits.headSize`) and
 *   are parsed only after the current response was written: responses leave
 *   in request order by construction.
 * - The request's bytes (held until connected, kept for a retry) are its
 *   `RequestBody`'s: see the invariants there.
 * - An upstream socket is returned to the pool only when its response was
 *   read to the end by its framing, the request was sent completely, the
 *   server did not ask to close, and no byte followed the response.
 * - Backpressure: a write that returns false pauses the other side; 'drain'
 *   resumes it.
 * - Socket handlers are module functions (client) or the pool's (upstream):
 *   no closures per connection or per request.
 */
export type HttpState = 'head' | 'routing' | 'concurrent' | 'exchange' | 'tunnel' | 'closing' | 'closed';


export class HttpConnection implements PoolUser, Connection, ClientHandler, HttpLegOwner {
  state: HttpState = 'head';
  readonly client: net.Socket;
  readonly pool: UpstreamPool;
  clientOpen = true;
  clientEnded = false;
  /** Reads request heads; keeps the bytes of pipelined requests behind the current one. */
  private readonly heads: RequestHeadReader;
  private timer: NodeJS.Timeout | undefined;

  // The request in flight.
  req: RequestHead | null = null;
  plan: Plan | null = null;
  /** The request's way through its plan (accounting, failover, judgement's record). */
  ex: Exchange | null = null;
  private websocket = false;
  /** The request's framing and the bytes held and kept of it. */
  readonly body: RequestBody;
  retryable = false;
  private closeAfter = false;
  /** See `isAmbiguous`: answered, then neither connection carries another message. */
  private ambiguous = false;
  private exchange: Concurrent | null = null;

  // The upstream and its response.
  private up: net.Socket | null = null;
  private upVersion: VersionState | null = null;
  private upServer: ServerState | null = null;
  private upReused = false;
  /** The answer to the request in flight, as it goes to the client. */
  private readonly res: HttpResponse;
  /** After a 101: the pipe between the client and `up`. */
  private tunnel: Tunnel | null = null;

  bytesIn = 0;
  bytesOut = 0;
  requests = 0;
  status: number | undefined;
  error: string | undefined;
  private readonly started = Date.now();
  private remote: string | null | undefined;
  /**
   * Timeouts other than the first byte's are found by the proxy's periodic
   * `sweep`, not by timers: a timer per connection (and a socket timeout
   * re-armed on every read and write) costs more than a short request.
   * `since`: when the head being read started ('head'), or when the closing
   * began ('closing', while `lingering`); the byte total and the time it last
   * moved tell idleness.
   */
  private since = this.started;
  private lingering = false;
  /** When the response head is due (0: none due, or a timer watches it). */
  private firstByteAt = 0;
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
    this.pool = pool;
    this.heads = new RequestHeadReader(ctx.opts.limits.headSize);
    this.body = new RequestBody(ctx.opts.limits.retryBuffer, ctx.opts.limits.headSize);
    this.res = new HttpResponse(ctx.opts.limits.responseHeadSize);
    listenToClient(client, this);
  }

  // ---------------------------------------------------------------- client side

  clientData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    switch (this.state) {
      case 'tunnel':
        this.tunnel!.fromClient(chunk);
        return;
      case 'head':
        this.headBytes(chunk);
        return;
      case 'routing':
      case 'concurrent':
      case 'exchange': {
        const rest = this.body.done ? chunk : this.bodyBytes(chunk);
        if (rest !== null) this.queue(rest);
        return;
      }
      default:
        // closing / closed: the answer is written; the rest is discarded.
    }
  }

  /** Keeps bytes that follow the current request (pipelining) for later. */
  private queue(rest: Buffer): void {
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
    clearTimeout(this.timer);
    this.timer = undefined;
    this.startRequest(r.head, r.buf, r.end);
  }

  private startRequest(head: RequestHead, buf: Buffer, end: number): void {
    const refused = refusal(head);
    if (refused !== 0) {
      this.reject(refused);
      return;
    }
    this.req = head;
    this.requests++;
    this.ambiguous = isAmbiguous(head, buf, end);
    this.websocket = head.upgrade && isWebSocket(head);
    this.closeAfter = head.close;
    this.retryable = isIdempotent(head.method);
    this.res.next();
    const out = forwardWith(end === buf.length ? buf : buf.subarray(0, end), head, this.websocket, this.ctx.opts.http, this.remoteOf);
    this.body.start(out, head.chunked, head.contentLength, this.retryable);
    this.state = 'routing';
    // Body bytes that came with the head are framed before anything is sent:
    // a malformed chunk line here is refused with nothing forwarded.
    if (end < buf.length) {
      const body = buf.subarray(end);
      const rest = this.body.done ? body : this.bodyBytes(body);
      if (this.state !== 'routing') return;
      if (rest !== null) this.queue(rest);
    }
    const plan = planFor(this.ctx, head);
    this.plan = plan;
    if (plan.targets.length === 0) {
      this.fail(new NoUpstreamError('no version is configured'));
      return;
    }
    const ex = this.ex = new Exchange(this.ctx, this.id, plan, head.method, { pool: this.pool, user: this });
    if (plan.fanOut > 1 && !this.websocket) {
      this.state = 'concurrent';
      this.exchange = new Concurrent(new PooledLegs(this, ex), ex);
      return;
    }
    // The usual case first: the chosen version has one server, it is up and
    // has an idle connection. No failover loop is built unless it fails.
    const first = plan.targets[0]!;
    if (first.servers.length === 1 && !this.websocket) {
      const server = first.servers[0]!;
      const socket = server.available(Date.now()) ? this.pool.take(server, this) : undefined;
      if (socket !== undefined) {
        this.attach(first, server, socket, true);
        this.writePending();
        return;
      }
    }
    ex.dial(this.dialedCb);
  }

  /** remoteAddress asks the kernel each time: once per connection, when a forwarding field wants it. */
  private readonly remoteOf = (): string | null => (this.remote ??= this.client.remoteAddress ?? null);

  /**
   * Request body bytes: frames them, sends (or queues) the part that belongs
   * to the request and returns what follows it (the next request), or null.
   */
  private bodyBytes(chunk: Buffer): Buffer | null {
    let piece: Buffer;
    let rest: Buffer | null;
    try {
      [piece, rest] = this.body.split(chunk);
    } catch (err) {
      // The request body broke its own framing (invalid chunk): nothing of it goes on.
      this.fail(new BadRequestError((err as Error).message));
      return null;
    }
    if (this.body.done && this.body.trailers) this.ambiguous = true;
    if (piece.length > 0) this.sendBody(piece);
    return rest;
  }

  private sendBody(piece: Buffer): void {
    if (this.state === 'exchange' && this.up !== null) {
      this.body.wrote(piece);
      if (!this.up!.write(piece)) this.client.pause();
      return;
    }
    if (this.state === 'concurrent') {
      this.exchange!.body(piece);
      return;
    }
    // Not connected yet: hold at most what a retry could replay, then stop reading.
    if (this.body.hold(piece)) this.client.pause();
  }

  clientEnd(): void {
    this.clientEnded = true;
    switch (this.state) {
      case 'head':
        if (this.heads.pending !== null) this.fail(new BadRequestError('incomplete request head'));
        else this.close();
        return;
      case 'routing':
      case 'concurrent':
      case 'exchange':
        // A request cut short can never complete; a complete one still gets its answer.
        if (!this.body.done) this.abort('client closed mid-request');
        else this.closeAfter = true;
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
    this.ex?.cancel();
    this.ex?.decide();
    this.exchange?.abort();
    this.exchange = null;
    const up = this.up;
    if (up !== null) {
      this.up = null;
      // A tunnel whose two sides both ended closes by itself once flushed.
      if (!(up.writableEnded && up.readableEnded)) this.pool.discard(up);
    }
    this.finish();
  }

  // -------------------------------------------------------------- upstream side

  private readonly dialedCb = (err: Error | null, c?: Candidate, socket?: net.Socket): void => this.dialed(err, c, socket);

  private dialed(err: Error | null, c?: Candidate, socket?: net.Socket): void {
    const reused = this.ex?.takeReused() ?? false;
    if (this.state !== 'routing') {
      if (socket !== undefined) {
        if (reused) {
          this.pool.discard(socket);
        } else {
          socket.destroy();
          this.pool.unadmit(c!.server);
        }
      }
      return;
    }
    if (err !== null || c === undefined || socket === undefined) {
      // When a retry finds no other server, the client hears about the failure that started it.
      const cause = this.ex!.cause;
      this.fail(cause !== null && (err as UpshiftError).code === 'UPS_ERR_NO_UPSTREAM' ? cause : err as UpshiftError);
      return;
    }
    if (!reused) this.pool.adopt(socket, c.server, this);
    this.attach(c.version, c.server, socket, reused);
    this.writePending();
  }

  /** Makes `socket` the upstream of the request in flight. Also used when CONCURRENT hands over its winner. */
  attach(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean): void {
    this.up = socket;
    this.upVersion = v;
    this.upServer = s;
    this.upReused = reused;
    this.res.attempt();
    this.state = 'exchange';
    v.open.add(this);
    this.ex!.attached(v, s, reused);
    const deadline = this.ex!.firstByteDeadline(v);
    // A deadline long against the sweep's period is swept (at most a few
    // per cent late); a short one gets a timer of its own.
    if (deadline >= this.ctx.sweepEvery * 16) this.firstByteAt = Date.now() + deadline;
    else {
      this.firstByteAt = 0;
      this.timer = setTimeout(onFirstByteTimeout, deadline, this);
    }
  }

  private writePending(): void {
    this.body.flush(this.up!);
    if (this.clientOpen && !this.client.readableFlowing && !this.clientEnded) this.client.resume();
  }

  /** CONCURRENT picked `socket` (lent to us already); `buffered` is what it answered so far. */
  adopt(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean, buffered: Buffer | null): void {
    this.exchange = null;
    this.pool.lend(socket, this);
    this.body.heldWereSent(this.retryable);
    this.attach(v, s, socket, reused);
    this.ex!.fallBack(this.plan!.targets.filter((x) => x !== v));
    if (buffered !== null && buffered.length > 0) this.upstreamData(socket, buffered);
    if (this.clientOpen && !this.clientEnded) this.client.resume();
  }

  /** CONCURRENT failed on every leg without an answer: fall back through the rest of the plan. */
  fallbackFrom(rest: readonly VersionState[], err: UpshiftError): void {
    this.exchange = null;
    // The whole request is still held unless it outgrew the retry buffer.
    if (rest.length === 0 || this.body.heldPieces.length === 0 || !this.clientOpen) {
      this.fail(err);
      return;
    }
    this.state = 'routing';
    this.ex!.fallBack(rest);
    this.ex!.dial(this.dialedCb);
  }

  upstreamData(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.up) return;
    if (this.state === 'tunnel') {
      this.bytesOut += chunk.length;
      this.tunnel!.fromUpstream(chunk);
      return;
    }
    if (this.state !== 'exchange') return;
    const res = this.res;
    res.got += chunk.length;
    if (!res.inHead) {
      this.responseBody(chunk);
      return;
    }
    this.responseHeadBytes(chunk);
  }

  /** `chunk` continues a response head. */
  private responseHeadBytes(chunk: Buffer): void {
    const res = this.res;
    const info = res.reader.final(chunk, this.interimCb);
    if (info === null) return;
    if (typeof info === 'string') {
      this.upstreamFailed(new BadResponseError(this.upServer!.key, info), 'bad-response');
      return;
    }
    if (info.status === 101) {
      const buf = res.reader.bytes;
      this.switchProtocols(buf, info.end < buf.length ? buf.subarray(info.end) : null);
      return;
    }
    const v = this.upVersion!;
    if (this.ex!.head(v, this.upServer!, info.status, this.side(true))) {
      // Dropped: its connection closes (no body is read), and the request goes on.
      this.dropResponse();
      this.resend();
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.firstByteAt = 0;
    this.status = info.status;
    const rb = res.body;
    rb.begin(info, this.req!.method);
    // The client learns where a close-delimited body ends only by our close;
    // a request still being sent cannot be followed by another on this connection.
    // A refused upgrade leaves the connection speaking HTTP/1.1 (RFC 9110 §7.8): no close for that.
    if (rb.toEof || !this.body.done || this.clientEnded || this.ambiguous || this.ctx.draining) this.closeAfter = true;
    const connection = this.closeAfter ? 'close' : this.req!.versionMinor === 0 ? 'keep-alive' : null;
    const sent = res.writeHead(this.client, info, report.routingCookies(this.ctx, this.plan!, v), connection);
    if (sent === -1) {
      // Mid-body: the client must see a cut response, not a clean end.
      this.abort(res.broken);
      return;
    }
    this.bytesOut += sent;
    if (rb.complete) this.responseDone();
    else if (res.full) this.up!.pause();
  }

  /** Interim heads go on to HTTP/1.1 clients only (RFC 9110 §15.2), never with cookies. */
  private readonly interimCb = (buf: Buffer): void => {
    if (this.req!.versionMinor === 1 && this.clientOpen) this.bytesOut += this.res.writeInterim(this.client, buf);
  };

  private responseBody(chunk: Buffer): void {
    const res = this.res;
    const n = res.writeBody(this.client, chunk);
    if (n === -1) {
      this.abort(res.broken);
      return;
    }
    this.bytesOut += n;
    if (res.body.done) this.responseDone();
    else if (res.full) this.up!.pause();
  }

  /** The response was written to the end: free the upstream, then serve the next request or close. */
  private responseDone(): void {
    const socket = this.up!;
    this.up = null;
    this.upVersion!.open.delete(this);
    this.ex = null;
    const rb = this.res.body;
    if (!rb.closes && this.body.done && !rb.dirty && !this.ambiguous && !socket.readableEnded) {
      socket.resume();
      this.pool.release(socket);
    } else {
      this.pool.discard(socket);
    }
    // Nothing more can come from a client that asked to close (or sent its
    // FIN) once its request was read whole and nothing follows it.
    const quiet = (this.req!.close || this.clientEnded) && this.body.done && this.heads.pending === null && !this.ambiguous;
    this.req = null;
    this.plan = null;
    this.body.clear();
    // What follows is a new response: an error for the next request may be written whole.
    this.res.next();
    if (this.closeAfter || this.ctx.draining) {
      this.close(quiet);
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

  private switchProtocols(buf: Buffer, rest: Buffer | null): void {
    if (!this.websocket) {
      this.upstreamFailed(new BadResponseError(this.upServer!.key, '101 to a request that asked for no upgrade'), 'bad-response');
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    const out = this.res.switchedHead(buf);
    this.status = 101;
    this.ex!.head(this.upVersion!, this.upServer!, 101, { answered: true, replayable: false, clientOpen: this.clientOpen, partial: true });
    this.state = 'tunnel';
    this.tunnel = new Tunnel(this.client, this.up!);
    this.bytesOut += out.length;
    this.client.write(out);
    if (rest !== null) {
      this.bytesOut += rest.length;
      this.client.write(rest);
    }
    // Bytes the client sent after its upgrade request belong to the new protocol.
    const early = this.heads.take();
    if (early !== null) this.up!.write(early);
    if (this.clientEnded) this.up!.end();
    else this.client.resume();
  }

  upstreamEnd(socket: net.Socket): void {
    if (socket !== this.up) return;
    if (this.state === 'tunnel') {
      this.tunnel!.upstreamEnded();
      return;
    }
    if (this.state !== 'exchange') return;
    if (this.res.inHead) this.upstreamFailed(new UpstreamClosedError(this.upServer!.key), 'reset');
    else if (this.res.body.toEof) this.responseDone();
    else this.abort('upstream closed mid-response');
  }

  upstreamError(socket: net.Socket, err: Error): void {
    if (socket !== this.up) return;
    this.error = (err as NodeJS.ErrnoException).code ?? err.message;
    this.upstreamGone(socket);
  }

  upstreamClose(socket: net.Socket): void {
    if (socket !== this.up) return;
    if (this.state === 'tunnel') {
      this.up = null;
      this.upVersion?.open.delete(this);
      this.tunnel!.upstreamClosed(this.clientOpen);
      return;
    }
    this.upstreamGone(socket);
  }

  private upstreamGone(socket: net.Socket): void {
    if (this.state === 'exchange') {
      if (this.res.inHead) this.upstreamFailed(new UpstreamClosedError(this.upServer!.key), 'reset');
      else this.abort('upstream reset mid-response');
    } else if (this.state === 'tunnel') {
      this.up = null;
      this.pool.discard(socket);
      if (this.clientOpen) this.client.destroy();
    }
  }

  clientDrained(): void {
    if (this.awaitDrain) {
      this.awaitDrain = false;
      if (this.state === 'head') this.nextRequest();
      return;
    }
    const up = this.up;
    if (up !== null && (this.state === 'exchange' || this.state === 'tunnel')) up.resume();
  }

  upstreamDrain(socket: net.Socket): void {
    if (socket === this.up && this.clientOpen) this.client.resume();
  }

  /** What failover needs to know of the client's side of the request in flight. */
  private side(partial: boolean): ClientSide {
    return { answered: this.res.sent !== 0, replayable: this.body.replayable, clientOpen: this.clientOpen, partial };
  }

  /** Closes the current upstream and forgets its response so far. */
  private dropResponse(): void {
    const socket = this.up!;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.firstByteAt = 0;
    this.up = null;
    this.res.drop();
    this.pool.discard(socket);
    this.upVersion!.open.delete(this);
  }

  /** Sends the request again, from its first byte, to the next candidate. */
  private resend(): void {
    this.body.replay();
    this.state = 'routing';
    this.ex!.dial(this.dialedCb);
  }

  /** The upstream failed before a complete response head. */
  private upstreamFailed(err: UpshiftError, kind: 'reset' | 'timeout' | 'bad-response'): void {
    const v = this.upVersion!;
    const s = this.upServer!;
    this.dropResponse();
    const side = this.side(this.res.got !== 0);
    // A pooled connection the server closed while it sat idle is not a
    // failure of the server (its keep-alive timeout beat ours).
    const stale = this.upReused && this.res.got === 0 && err.code === 'UPS_ERR_UPSTREAM_CLOSED';
    if (stale ? this.ex!.stale(side) : this.ex!.failed(v, s, kind, err, side)) {
      this.resend();
      return;
    }
    this.fail(err);
  }

  firstByteTimeout(): void {
    if (this.state !== 'exchange' || !this.res.inHead) return;
    this.upstreamFailed(new FirstByteTimeoutError(this.upServer!.key), 'timeout');
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
    if (this.res.sent !== this.res.interim) {
      this.abort(err.code);
      return;
    }
    this.answerAndClose(errorResponse(this.status));
  }

  private answerAndClose(response: Buffer): void {
    this.state = 'closing';
    this.dropUpstream();
    if (!answerLast(this.client, this.clientOpen, response, false)) return;
    this.bytesOut += response.length;
    this.linger();
  }

  /** Ends a client connection whose exchanges are complete. */
  private close(quiet = false): void {
    this.state = 'closing';
    clearTimeout(this.timer);
    this.timer = undefined;
    if (endClient(this.client, this.clientOpen, quiet)) this.linger();
  }

  private dropUpstream(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.ex?.cancel();
    this.ex?.decide();
    this.ex = null;
    this.exchange?.abort();
    this.exchange = null;
    this.heads.take();
    this.body.clear();
    const up = this.up;
    if (up !== null) {
      this.up = null;
      this.upVersion?.open.delete(this);
      this.pool.discard(up);
    }
  }

  /** Closes everything at once, without an answer. */
  abort(reason: string | undefined): void {
    if (reason !== undefined && this.error === undefined) this.error = reason;
    if (this.state !== 'closed') this.state = 'closing';
    this.dropUpstream();
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

  /** Called by the proxy's sweep: the head, linger and idle timeouts. */
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
      case 'exchange':
        if (this.res.inHead && this.firstByteAt !== 0 && now >= this.firstByteAt) {
          this.firstByteTimeout();
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
    this.dropUpstream();
    // However it ended (a tunnel's client closing first leaves no upstream to drop), a closed connection holds no version open.
    this.upVersion?.open.delete(this);
    report.reportClosed(this.ctx, this, this.upVersion, this.started);
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

function onFirstByteTimeout(c: HttpConnection): void { c.firstByteTimeout(); }

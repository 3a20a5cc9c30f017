import type net from 'node:net';
import type { ProxyContext } from '../context.js';
import {
  BadRequestError, BadResponseError, FirstByteTimeoutError, HeadTimeoutError,
  NoUpstreamError, UpstreamClosedError, toHttpStatus, type UpshiftError,
} from '../errors.js';
import { forwardRequestHead } from '../http/forward-request.js';
import { urlRewrite } from '../http/location.js';
import { clientHead, headLines, rewriteResponseHead } from '../http/response-head.js';
import { forwardedNode, isAmbiguous, isWebSocket, listedLength } from '../http/request-checks.js';
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
import { ResponseHeadReader } from './head-reader.js';
import { RequestHeadReader } from './request-reader.js';
import { RequestBody } from './request-body.js';
import { ResponseBody } from './response-body.js';
import { Exchange, planFor, type ClientSide } from './exchange.js';
import { Concurrent } from './concurrent.js';
import { PooledLegs, type HttpLegOwner } from './concurrent-legs.js';
import { replicaOf } from './compare-legs.js';
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
  /** True until the final response head was read. */
  private rhead = false;
  /** The response head being read. */
  private readonly reader: ResponseHeadReader;
  private rgot = 0;
  private rsent = 0;
  /** Of `rsent`, the interim heads' bytes: a final answer (ours, a 502) may still follow them. */
  private rinterim = 0;
  /** Where the response body ends, and whether the upstream can be pooled after it. */
  private readonly rbody: ResponseBody;
  /** The response head's lines as strings, when it is rewritten. */
  private readonly lines: string[] = [];

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
  private lastTotal = 0;
  private lastActive = this.started;

  constructor(
    readonly id: number,
    readonly ctx: ProxyContext,
    client: net.Socket,
    pool: UpstreamPool,
  ) {
    this.client = client;
    this.pool = pool;
    this.heads = new RequestHeadReader(ctx.opts.limits.headSize);
    this.reader = new ResponseHeadReader(ctx.opts.limits.responseHeadSize);
    this.body = new RequestBody(ctx.opts.limits.retryBuffer, ctx.opts.limits.headSize);
    this.rbody = new ResponseBody(ctx.opts.limits.responseHeadSize);
    listenToClient(client, this);
  }

  // ---------------------------------------------------------------- client side

  clientData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    switch (this.state) {
      case 'tunnel':
        if (!this.up!.write(chunk)) this.client.pause();
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
    const opts = this.ctx.opts;
    if (head.method === 'CONNECT') {
      // A reverse proxy never opens tunnels to a target the client names.
      this.reject(405);
      return;
    }
    if (head.contentLength >= 0 && listedLength(head)) {
      // RFC 9110 §8.6 lets a recipient accept "5, 5"; origins refuse it. We
      // cannot forward one reading and let the origin apply another: refuse.
      this.reject(400);
      return;
    }
    this.req = head;
    this.requests++;
    this.ambiguous = isAmbiguous(head, buf, end);
    this.websocket = head.upgrade && isWebSocket(head);
    this.closeAfter = head.close;
    this.retryable = isIdempotent(head.method);
    this.rsent = 0;
    this.rinterim = 0;
    // remoteAddress asks the kernel each time: only when a forwarding field wants it, once per connection.
    const remote = opts.http.xForwardedFor || opts.http.forwarded ? (this.remote ??= this.client.remoteAddress ?? null) : null;
    const out = forwardRequestHead(
      end === buf.length ? buf : buf.subarray(0, end), head, this.websocket,
      opts.http.xForwardedFor ? remote ?? 'unknown' : undefined,
      opts.http.forwarded ? `for=${forwardedNode(remote ?? undefined)};proto=http` : undefined,
    );
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
    ex.replica = replicaOf(head, out);
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
        this.up!.end();
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
    this.rbody.fresh();
    this.state = 'exchange';
    this.rhead = true;
    this.reader.reset();
    this.rgot = 0;
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
      if (!this.client.write(chunk)) socket.pause();
      return;
    }
    if (this.state !== 'exchange') return;
    this.ex?.answerBytes(chunk);
    this.rgot += chunk.length;
    if (!this.rhead) {
      this.responseBody(chunk);
      return;
    }
    this.responseHeadBytes(chunk);
  }

  /** `chunk` continues a response head (null: look again at what the reader keeps). */
  private responseHeadBytes(chunk: Buffer | null): void {
    const reader = this.reader;
    const info = reader.feed(chunk);
    if (info === null) return;
    if (typeof info === 'string') {
      this.upstreamFailed(new BadResponseError(this.upServer!.key, info), 'bad-response');
      return;
    }
    const buf = reader.bytes;
    const end = info.end;
    const status = info.status;
    if (status < 200) {
      const rest = end < buf.length ? buf.subarray(end) : null;
      if (status === 101) {
        this.switchProtocols(buf, rest);
        return;
      }
      // Interim: passed on to HTTP/1.1 clients only (RFC 9110 §15.2), never with cookies.
      if (this.req!.versionMinor === 1 && this.clientOpen) {
        const out = rewriteResponseHead(headLines(buf, reader.offs, this.lines), null, null, null, false);
        this.rsent += out.length;
        this.rinterim += out.length;
        this.bytesOut += out.length;
        this.client.write(out);
      }
      const more = reader.next(end);
      if (typeof more === 'string') this.upstreamFailed(new BadResponseError(this.upServer!.key, more), 'bad-response');
      else if (more !== null) this.responseHeadBytes(null);
      return;
    }
    const v = this.upVersion!;
    const plan = this.plan!;
    if (this.ex!.head(v, this.upServer!, status, this.side(true))) {
      // Dropped: its connection closes (no body is read), and the request goes on.
      this.dropResponse();
      this.resend();
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.firstByteAt = 0;
    this.rhead = false;
    this.reader.reset();
    this.status = status;

    const rb = this.rbody;
    rb.begin(info, this.req!.method);
    // The client learns where a close-delimited body ends only by our close;
    // a request still being sent cannot be followed by another on this connection.
    // A refused upgrade leaves the connection speaking HTTP/1.1 (RFC 9110 §7.8): no close for that.
    if (rb.toEof || !this.body.done || this.clientEnded || this.ambiguous || this.ctx.draining) this.closeAfter = true;
    const connection = this.closeAfter ? 'close' : this.req!.versionMinor === 0 ? 'keep-alive' : null;
    const n = end < buf.length ? this.frameBody(buf, end) : 0;
    if (n === -1) return;
    const urls = info.urls ? urlRewrite(this.ctx.opts.rewrite.location, v.spec.servers, this.req!.host) : null;
    const { out, body } = clientHead(buf, end, n, info, this.reader.offs, this.lines, report.routingCookies(this.ctx, plan, v), connection, urls);
    const sent = out.length + (body === null ? 0 : n);
    this.rsent += sent;
    this.bytesOut += sent;
    let ok: boolean;
    if (body === null) {
      ok = this.client.write(out);
    } else {
      // A large body's first bytes: head and body leave in one writev (one syscall), without a copy.
      this.client.cork();
      this.client.write(out);
      ok = this.client.write(body);
      this.client.uncork();
    }
    if (rb.complete) this.responseDone();
    else if (!ok) this.up!.pause();
  }

  private responseBody(chunk: Buffer): void {
    const n = this.frameBody(chunk, 0);
    if (n === -1) return;
    const done = this.rbody.done;
    if (n > 0) {
      this.rsent += n;
      this.bytesOut += n;
      if (!this.client.write(n === chunk.length ? chunk : chunk.subarray(0, n)) && !done) this.up!.pause();
    }
    if (done) this.responseDone();
  }

  /** The body bytes of `chunk` from `from` on (see `ResponseBody.frame`); -1 when the body broke its framing (the connection is aborted). */
  private frameBody(chunk: Buffer, from: number): number {
    try {
      return this.rbody.frame(chunk, from);
    } catch (err) {
      // Mid-body: the client must see a cut response, not a clean end.
      this.abort(`bad chunked response: ${(err as Error).message}`);
      return -1;
    }
  }

  /** The response was written to the end: free the upstream, then serve the next request or close. */
  private responseDone(): void {
    const socket = this.up!;
    this.up = null;
    this.upVersion!.open.delete(this);
    this.ex = null;
    if (!this.rbody.closes && this.body.done && !this.rbody.dirty && !this.ambiguous && !socket.readableEnded) {
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
    this.rsent = 0;
    this.rinterim = 0;
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
    this.rhead = false;
    this.reader.reset();
    this.status = 101;
    this.ex!.head(this.upVersion!, this.upServer!, 101, { answered: true, replayable: false, clientOpen: this.clientOpen, partial: true });
    this.state = 'tunnel';
    const out = rewriteResponseHead(headLines(buf, this.reader.offs, this.lines), null, null, null, true);
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
      this.client.end();
      return;
    }
    if (this.state !== 'exchange') return;
    this.ex?.answerEnd();
    if (this.rhead) this.upstreamFailed(new UpstreamClosedError(this.upServer!.key), 'reset');
    else if (this.rbody.toEof) this.responseDone();
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
      // Closed without a FIN we could pass on: the client must not take it for a clean end.
      if (!socket.readableEnded && this.clientOpen) this.client.destroy();
      return;
    }
    this.upstreamGone(socket);
  }

  private upstreamGone(socket: net.Socket): void {
    if (this.state === 'exchange') {
      if (this.rhead) this.upstreamFailed(new UpstreamClosedError(this.upServer!.key), 'reset');
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
    return { answered: this.rsent !== 0, replayable: this.body.replayable, clientOpen: this.clientOpen, partial };
  }

  /** Closes the current upstream and forgets its response so far. */
  private dropResponse(): void {
    const socket = this.up!;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.firstByteAt = 0;
    this.up = null;
    this.rhead = false;
    this.reader.reset();
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
    const side = this.side(this.rgot !== 0);
    // A pooled connection the server closed while it sat idle is not a
    // failure of the server (its keep-alive timeout beat ours).
    const stale = this.upReused && this.rgot === 0 && err.code === 'UPS_ERR_UPSTREAM_CLOSED';
    if (stale ? this.ex!.stale(side) : this.ex!.failed(v, s, kind, err, side)) {
      this.resend();
      return;
    }
    this.fail(err);
  }

  firstByteTimeout(): void {
    if (this.state !== 'exchange' || !this.rhead) return;
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
    if (this.rsent !== this.rinterim) {
      this.abort(err.code);
      return;
    }
    this.answerAndClose(errorResponse(this.status));
  }

  private answerAndClose(response: Buffer): void {
    this.state = 'closing';
    this.dropUpstream();
    if (!this.clientOpen) return;
    if (!this.client.writable) {
      this.client.destroy();
      return;
    }
    this.bytesOut += response.length;
    this.client.end(response);
    // Keep reading (and dropping) so the client's FIN is seen; give up after the linger time.
    this.client.resume();
    this.linger();
  }

  /** Ends a client connection whose exchanges are complete. */
  private close(quiet = false): void {
    this.state = 'closing';
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.clientOpen) return;
    if (quiet && this.client.writableLength === 0) {
      // Everything written is in the kernel and no byte from the client is
      // unread or on its way, so closing now sends the rest and a FIN (not a
      // reset): no shutdown, no waiting for the client's FIN.
      this.client.destroy();
      return;
    }
    this.client.end();
    this.client.resume();
    this.linger();
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
        if (this.rhead && this.firstByteAt !== 0 && now >= this.firstByteAt) {
          this.firstByteTimeout();
          return;
        }
        break;
      default:
    }
    const total = this.bytesIn + this.bytesOut;
    if (total !== this.lastTotal) {
      this.lastTotal = total;
      this.lastActive = now;
    } else if (now - this.lastActive >= t.idle) {
      this.idle();
    }
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

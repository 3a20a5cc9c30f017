import type net from 'node:net';
import type { ProxyContext } from '../context.js';
import {
  BadRequestError, BadResponseError, FirstByteTimeoutError, HeadTimeoutError,
  NoUpstreamError, UpstreamClosedError, toHttpStatus, type UpshiftError,
} from '../errors.js';
import type { RequestHead } from '../http/request-head.js';
import { errorResponse } from '../http/responses.js';
import { urlRewrite } from '../http/location.js';
import { streamHead, type ResponseHead } from '../http/response-head.js';
import { route } from '../routing/router.js';
import type { Plan } from '../routing/strategies/index.js';
import type { VersionState } from '../routing/version.js';
import type { Candidate } from '../upstream/dial.js';
import type { FailureKind } from '../upstream/failover.js';
import type { ServerState } from '../upstream/server.js';
import { Concurrent } from './concurrent.js';
import { StreamLegs, type StreamLegOwner } from './concurrent-legs.js';
import { replicaOf } from './compare-legs.js';
import { listenToClient, type ClientHandler } from './client-socket.js';
import type { Connection } from './connection.js';
import { ResponseHeadReader } from './head-reader.js';
import { RequestHeadReader } from './request-reader.js';
import { Exchange, planFor } from './exchange.js';
import { reportClosed, routingCookies } from './report.js';

/**
 * Stream mode: one client connection, routed once on its first request head,
 * then piped both ways until EOF.
 *
 *   head ──▶ dialing ──▶ response-head ──▶ piping ──▶ closed
 *     │         │  ▲            │
 *     │         │  └── retry ───┘ (failure before any response byte,
 *     │         │                  request kept and idempotent)
 *     │         └──▶ concurrent ──▶ (winner adopted) response-head/piping
 *     └──▶ closing (400/408/431/502/503/504 written, then close)
 *
 * Invariants:
 * - `chunks` holds the client bytes not yet known to be answered: all of
 *   them until the first connect (they are what gets sent), and afterwards,
 *   while `retryable`, a copy bounded by `limits.retryBuffer` so the request
 *   can be re-sent elsewhere. It is null once the response head arrived.
 * - Backpressure: a write that returns false pauses the other side; 'drain'
 *   resumes it. Nothing is buffered in user space while piping.
 * - Each socket is destroyed by Node or by us exactly once; `finish()` runs
 *   once, after the client socket and the current upstream have both closed.
 * - Idle connections are found by the proxy's periodic `sweep`, not by
 *   socket timeouts (no timer work on the hot path).
 * - Socket handlers are module functions that find the connection through a
 *   symbol on the socket: no closures per connection on the hot path.
 */
export type StreamState = 'head' | 'dialing' | 'concurrent' | 'response-head' | 'piping' | 'closing' | 'closed';

const kConn = Symbol('upshift.connection');
const kServer = Symbol('upshift.server');
type Tagged = net.Socket & { [kConn]?: StreamConnection; [kServer]?: ServerState };

/** Turns of the close loop (25 ms each) a piping connection must stay quiet before `drain` ends it. */
const QUIET_TURNS = 10;

export class StreamConnection implements Connection, ClientHandler, StreamLegOwner {
  state: StreamState = 'head';
  readonly client: net.Socket;
  upstream: net.Socket | null = null;
  private upstreamOpen = false;
  clientOpen = true;
  version: VersionState | null = null;
  server: ServerState | null = null;
  head: RequestHead | null = null;
  plan: Plan | null = null;
  /** Client bytes kept for (re)sending; see the invariants above. */
  chunks: Buffer[] | null = [];
  retained = 0;
  retryable = false;
  clientEnded = false;
  /** Plain TCP (non-HTTP bytes): no response head is parsed. */
  private tcp = false;
  /** Created on the first byte: an idle connection costs no parser. */
  private heads: RequestHeadReader | null = null;
  /** Reads the server's answer head; created on the first attempt (an idle connection costs none). */
  private reader: ResponseHeadReader | null = null;
  /** A byte of the current attempt's answer came (it had started to answer). */
  private heard = false;
  /** Of `bytesOut`, the interim heads': a final answer (ours, a 502) may still follow them. */
  private interimOut = 0;
  /** The first request's way through its plan (accounting, failover, judgement's record). */
  ex: Exchange | null = null;
  private exchange: Concurrent | null = null;
  private timer: NodeJS.Timeout | undefined;
  bytesIn = 0;
  bytesOut = 0;
  /** Byte total and time at the last sweep that saw it change (idle timeout). */
  private lastTotal = -1;
  private lastActive = 0;
  /** The last bytes that moved while piping were the client's (a request may be waiting for its answer). */
  private awaiting = true;
  private drainTotal = -1;
  private drainTurns = 0;
  status: number | undefined;
  error: string | undefined;
  private readonly started = Date.now();

  constructor(
    readonly id: number,
    readonly ctx: ProxyContext,
    client: net.Socket,
  ) {
    this.client = client;
    listenToClient(client, this);
    this.timer = setTimeout(onHeadTimeout, ctx.opts.timeouts.head, this);
  }

  // ---------------------------------------------------------------- client side

  clientData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    switch (this.state) {
      case 'piping':
        this.awaiting = true;
        if (!this.upstream!.write(chunk)) this.client.pause();
        return;
      case 'response-head':
        if (this.chunks !== null) this.keep(chunk, false);
        if (!this.upstream!.write(chunk)) this.client.pause();
        return;
      case 'head':
        this.headBytes(chunk);
        return;
      case 'dialing':
        this.keep(chunk, true);
        return;
      case 'concurrent':
        this.exchange!.body(chunk);
        return;
      default:
        // closing / closed: the answer is written; the rest is discarded.
    }
  }

  /** Retains a client chunk; `must` when it has not been sent anywhere yet. */
  keep(chunk: Buffer, must: boolean): void {
    if (this.chunks === null) return;
    if (!must && this.retained + chunk.length > this.ctx.opts.limits.retryBuffer) {
      // Too much to replay: from here on a failure is answered, not retried.
      this.chunks = null;
      this.retryable = false;
      return;
    }
    this.chunks.push(chunk);
    this.retained += chunk.length;
  }

  private headBytes(chunk: Buffer): void {
    const tcp = this.ctx.opts.nonHttp === 'tcp';
    if (tcp && this.bytesIn === chunk.length && !startsLikeHttp(chunk)) {
      this.chunks!.push(chunk);
      this.retained += chunk.length;
      this.startTcp();
      return;
    }
    const heads = this.heads ??= new RequestHeadReader(this.ctx.opts.limits.headSize);
    const r = heads.feed(chunk);
    if (r === null) return;
    if (!('head' in r)) {
      if (tcp && heads.inFirstLine) {
        const bytes = heads.take()!;
        this.chunks = [bytes];
        this.retained = bytes.length;
        this.startTcp();
        return;
      }
      this.fail(r);
      return;
    }
    // Everything the client sent so far (the head, and what followed it) is what gets sent.
    this.chunks = [r.buf];
    this.retained = r.buf.length;
    this.head = r.head;
    this.heads = null;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.client.pause();
    this.routeAndDial(r.head, r.buf.subarray(0, r.end));
  }

  private routeAndDial(head: RequestHead, headBytes: Buffer): void {
    const plan = planFor(this.ctx, head);
    this.plan = plan;
    if (plan.targets.length === 0) {
      this.fail(new NoUpstreamError('no version is configured'));
      return;
    }
    const ex = this.ex = new Exchange(this.ctx, this.id, plan, head.method, null);
    ex.replica = replicaOf(head, headBytes);
    this.retryable = ex.idempotent;
    if (plan.fanOut > 1) {
      this.state = 'concurrent';
      this.exchange = new Concurrent(new StreamLegs(this, ex), ex);
      return;
    }
    this.state = 'dialing';
    ex.dial(this.dialedCb);
  }

  private startTcp(): void {
    this.tcp = true;
    this.heads = null;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.client.pause();
    // Not HTTP: no cookies, no method; the newest version that is up takes it.
    const plan = route(this.ctx.table.snapshot, { method: '', sessionCookie: undefined, transitionCookie: undefined }, Date.now());
    this.plan = { ...plan, fanOut: 1, mode: 'INSTANT', reason: 'tcp', newTransitionId: undefined, gradual: undefined, sessionLifetime: undefined };
    if (plan.targets.length === 0) {
      this.abort('no version is configured');
      return;
    }
    this.state = 'dialing';
    this.ex = new Exchange(this.ctx, this.id, this.plan, '', null);
    this.ex.dial(this.dialedCb);
  }

  clientEnd(): void {
    this.clientEnded = true;
    switch (this.state) {
      case 'head':
        // A head cut short by FIN can never complete.
        if (this.bytesIn === 0) this.abort(undefined);
        else this.fail(new BadRequestError('incomplete request head'));
        return;
      case 'response-head':
      case 'piping':
        this.upstream!.end();
        return;
      case 'concurrent':
        this.exchange!.clientEnd();
        return;
      default:
        // dialing: the FIN is replayed after connect. closing: our answer
        // is queued with end(); Node closes the socket once it is flushed.
    }
  }

  clientDrained(): void {
    if (this.state === 'piping' || this.state === 'response-head') this.upstream?.resume();
  }

  clientClose(): void {
    this.clientOpen = false;
    if (this.state !== 'closed' && this.state !== 'closing') this.state = 'closing';
    this.ex?.cancel();
    this.ex?.decide();
    this.exchange?.abort();
    const up = this.upstream;
    // After a clean exchange (client FIN passed on, upstream EOF received)
    // the upstream closes by itself once its writes are flushed; anything
    // else means the client vanished and the upstream must go too.
    if (up !== null && this.upstreamOpen && !(this.clientEnded && up.readableEnded)) up.destroy();
    this.maybeFinish();
  }

  // -------------------------------------------------------------- upstream side

  private readonly dialedCb = (err: Error | null, c?: Candidate, socket?: net.Socket): void => this.dialed(err, c, socket);

  private dialed(err: Error | null, c?: Candidate, socket?: net.Socket): void {
    if (this.state !== 'dialing') {
      socket?.destroy();
      return;
    }
    if (err !== null || c === undefined || socket === undefined) {
      if (this.tcp) this.abort('no upstream');
      // When a retry finds no other server, the client hears about the
      // failure that started it (a 504 for a stall), not a bare 503.
      else this.fail(this.ex!.cause !== null && (err as UpshiftError).code === 'UPS_ERR_NO_UPSTREAM' ? this.ex!.cause : err as UpshiftError);
      return;
    }
    this.attach(c.version, c.server, socket);
    const chunks = this.chunks!;
    socket.cork();
    for (const chunk of chunks) socket.write(chunk);
    socket.uncork();
    if (!this.retryable || this.tcp) this.chunks = null;
    if (this.clientEnded) socket.end();
    if (this.tcp) {
      this.state = 'piping';
    } else {
      this.state = 'response-head';
      this.heard = false;
      (this.reader ??= new ResponseHeadReader(this.ctx.opts.limits.responseHeadSize)).reset();
      this.timer = setTimeout(onFirstByteTimeout, this.ex!.firstByteDeadline(c.version), this);
    }
    this.client.resume();
  }

  /**
   * Makes `socket` this connection's upstream. Also used by CONCURRENT to hand
   * over the winning socket.
   */
  attach(v: VersionState, s: ServerState, socket: net.Socket): void {
    const tagged = socket as Tagged;
    tagged[kConn] = this;
    tagged[kServer] = s;
    s.active++;
    this.upstream = socket;
    this.upstreamOpen = true;
    socket.on('data', onUpstreamData);
    socket.on('end', onUpstreamEnd);
    socket.on('error', onUpstreamError);
    socket.on('close', onUpstreamClose);
    socket.on('drain', onUpstreamDrain);
    this.version = v;
    this.server = s;
    v.open.add(this);
    this.ex!.attached(v, s, false);
  }

  /**
   * Takes over a winning CONCURRENT leg: `buffered` holds the response bytes
   * so far, read again from the first here (the one head check applies).
   */
  adopt(v: VersionState, s: ServerState, socket: net.Socket, buffered: Buffer): void {
    this.attach(v, s, socket);
    // Failures after this point fall back through the rest of the plan.
    this.ex!.fallBack(this.plan!.targets.filter((x) => x !== v));
    this.exchange = null;
    this.state = 'response-head';
    this.heard = false;
    (this.reader ??= new ResponseHeadReader(this.ctx.opts.limits.responseHeadSize)).reset();
    this.upstreamData(socket, buffered);
    this.client.resume();
  }

  /** Falls back from a CONCURRENT exchange in which no version answered well. */
  fallbackFrom(rest: readonly VersionState[], err: UpshiftError): void {
    if (this.exchange === null) return;
    this.exchange = null;
    if (rest.length === 0 || this.chunks === null) {
      this.fail(err);
      return;
    }
    this.state = 'dialing';
    this.client.pause();
    this.ex!.fallBack(rest);
    this.ex!.dial(this.dialedCb);
  }

  upstreamData(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.upstream) return;
    this.ex?.answerBytes(chunk);
    if (this.state === 'piping') {
      this.awaiting = false;
      this.bytesOut += chunk.length;
      if (!this.client.write(chunk)) socket.pause();
      return;
    }
    if (this.state !== 'response-head') return;
    this.heard = true;
    this.responseHeadBytes(chunk);
  }

  /** `chunk` continues the answer's head (null: look again at what the reader keeps). */
  private responseHeadBytes(chunk: Buffer | null): void {
    const reader = this.reader!;
    const info = reader.feed(chunk);
    if (info === null) return;
    if (typeof info === 'string') {
      this.upstreamFailed(new BadResponseError(this.server!.key, info), 'bad-response');
      return;
    }
    if (info.status >= 200 || info.status === 101) {
      this.responseHead(reader.bytes, 0, info);
      return;
    }
    // Interim (100 Continue, 103): on to the client now, as it came (no
    // cookies: they go on the final head). The client is answered from here
    // on: this request is no longer sent elsewhere.
    const interim = reader.bytes.subarray(0, info.end);
    this.bytesOut += interim.length;
    this.interimOut += interim.length;
    this.client.write(interim);
    const more = reader.next(info.end);
    if (typeof more === 'string') this.upstreamFailed(new BadResponseError(this.server!.key, more), 'bad-response');
    else if (more !== null) this.responseHeadBytes(null);
  }

  /** The first final response head is complete: account for it (or drop it to try elsewhere), set cookies, start piping. */
  private responseHead(buf: Buffer, start: number, info: ResponseHead): void {
    const status = info.status;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.reader!.reset();
    const v = this.version!;
    const plan = this.plan!;
    if (this.ex!.head(v, this.server!, status, this.side(true))) {
      this.retry();
      return;
    }
    this.chunks = null;
    this.status = status;
    const urls = info.urls ? urlRewrite(this.ctx.opts.rewrite.location, v.spec.servers, this.head?.host) : null;
    const out = streamHead(buf, start, info.end, info, this.reader!.offs, routingCookies(this.ctx, plan, v), urls);
    this.state = 'piping';
    this.awaiting = false;
    this.bytesOut += out.length;
    if (!this.client.write(out)) this.upstream!.pause();
  }

  upstreamEnd(socket: net.Socket): void {
    if (socket !== this.upstream) return;
    this.ex?.answerEnd();
    if (this.state === 'piping') this.client.end();
    else if (this.state === 'response-head') this.upstreamFailed(new UpstreamClosedError(this.server!.key), 'reset');
  }

  upstreamError(socket: net.Socket, err: Error): void {
    if (socket !== this.upstream) return;
    if (this.state === 'response-head') {
      this.upstreamFailed(new UpstreamClosedError(this.server!.key), 'reset');
      return;
    }
    this.error = (err as NodeJS.ErrnoException).code ?? err.message;
    // Mid-stream: the response is cut; the client must see that, not a clean end.
    this.client.destroy();
  }

  upstreamClose(socket: net.Socket): void {
    const s = (socket as Tagged)[kServer];
    if (s !== undefined) {
      s.active--;
      (socket as Tagged)[kServer] = undefined;
    }
    if (socket !== this.upstream) return;
    this.upstreamOpen = false;
    // Closed without a FIN we could pass on (reset, or destroyed by a timeout):
    // the client must not mistake a cut response for a complete one.
    if (this.clientOpen && this.state === 'piping' && !socket.readableEnded) this.client.destroy();
    this.maybeFinish();
  }

  /** What failover needs to know of the client's side. */
  private side(partial: boolean): { answered: boolean; replayable: boolean; clientOpen: boolean; partial: boolean } {
    return { answered: this.bytesOut !== 0, replayable: this.retryable && this.chunks !== null, clientOpen: this.clientOpen, partial };
  }

  /** Drops the current upstream (its answer or its failure) and dials the next candidate with the kept request bytes. */
  private retry(): void {
    const socket = this.upstream!;
    this.upstream = null;
    this.upstreamOpen = false;
    socket.destroy();
    this.version!.open.delete(this);
    this.state = 'dialing';
    this.client.pause();
    this.ex!.dial(this.dialedCb);
  }

  /** The current upstream failed before a complete response head. */
  private upstreamFailed(err: UpshiftError, kind: Exclude<FailureKind, 'unreachable' | 'status'>): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.error = err.code;
    if (this.ex!.failed(this.version!, this.server!, kind, err, this.side(this.heard))) {
      this.retry();
      return;
    }
    const socket = this.upstream!;
    this.upstream = null;
    this.upstreamOpen = false;
    socket.destroy();
    this.version!.open.delete(this);
    this.fail(err);
  }

  firstByteTimeout(): void {
    if (this.state !== 'response-head') return;
    this.upstreamFailed(new FirstByteTimeoutError(this.server!.key), 'timeout');
  }

  // ------------------------------------------------------------------ endings

  /** Answers the client with the error's status (nothing was sent yet) and closes. */
  fail(err: UpshiftError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.error = err.code;
    this.status = toHttpStatus(err);
    clearTimeout(this.timer);
    this.ex?.cancel();
    this.ex?.decide();
    this.exchange?.abort();
    this.exchange = null;
    this.chunks = null;
    if (this.upstream !== null && this.upstreamOpen) this.upstream.destroy();
    const client = this.client;
    if (!this.clientOpen) return;
    if (this.bytesOut !== this.interimOut || !client.writable) {
      client.destroy();
      return;
    }
    this.bytesOut += 1;
    client.end(errorResponse(this.status));
    // Keep reading (and dropping) so the client's FIN is seen; give up after the linger time.
    client.resume();
    this.timer = setTimeout(onLingerTimeout, this.ctx.opts.timeouts.linger, this);
  }

  /** Closes everything at once, without an answer. */
  abort(reason: string | undefined): void {
    if (reason !== undefined && this.error === undefined) this.error = reason;
    if (this.state !== 'closed') this.state = 'closing';
    clearTimeout(this.timer);
    this.ex?.cancel();
    this.ex?.decide();
    this.exchange?.abort();
    this.exchange = null;
    if (this.upstream !== null && this.upstreamOpen) this.upstream.destroy();
    if (this.clientOpen) this.client.destroy();
  }

  /**
   * Called by the proxy's sweep (every quarter of `timeouts.idle`): closes a
   * piping connection whose byte counts did not move for the idle time. A
   * sweep costs nothing per chunk, where a socket timeout re-arms a timer
   * on every read and write.
   */
  sweep(now: number): void {
    if (this.state !== 'piping') return;
    const idle = this.ctx.opts.timeouts.idle;
    const total = this.bytesIn + this.bytesOut;
    if (total !== this.lastTotal) {
      this.lastTotal = total;
      this.lastActive = now;
    } else if (now - this.lastActive >= idle) {
      this.abort('idle timeout');
    }
  }

  headTimeout(): void {
    if (this.state !== 'head') return;
    // A connection that never said anything gets no answer, just a close.
    if (this.bytesIn === 0) this.abort('head timeout');
    else this.fail(new HeadTimeoutError());
  }

  lingerTimeout(): void {
    if (this.clientOpen) this.client.destroy();
  }

  private maybeFinish(): void {
    if (this.clientOpen || this.upstreamOpen || this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.timer);
    this.timer = undefined;
    this.chunks = null;
    this.reader = null;
    this.version?.open.delete(this);
    reportClosed(this.ctx, this, this.version, this.started);
  }

  /**
   * The proxy is closing. Stream mode cannot see where an answer ends, so a
   * piping connection is ended once the last bytes that moved were the
   * server's (its answer) and nothing moved for `QUIET_TURNS` turns of the
   * close loop (~250 ms): a kept-alive client waiting for nothing is not
   * held until the drain deadline, a request still waiting for its answer
   * keeps it, and an answer that pauses longer than that mid-body is cut
   * (as it would be at the drain deadline).
   */
  drain(_now: number): void {
    if (this.state !== 'piping' || this.awaiting) return;
    const total = this.bytesIn + this.bytesOut;
    if (total !== this.drainTotal) {
      this.drainTotal = total;
      this.drainTurns = 0;
    } else if (++this.drainTurns >= QUIET_TURNS) {
      this.abort('closed by proxy');
    }
  }

  /** Ends the connection now (drain deadline passed, or its version was removed). */
  destroy(): void {
    this.abort('closed by proxy');
  }

  /** True while the connection has not started its exchange (safe to drop when closing). */
  get idleBeforeHead(): boolean {
    return this.state === 'head' && this.bytesIn === 0;
  }
}

/** First byte of an HTTP/1 request line is an uppercase method letter. */
function startsLikeHttp(chunk: Buffer): boolean {
  const c = chunk[0]!;
  return c >= 0x41 && c <= 0x5a;
}

// Socket handlers: module functions, `this` is the socket.
function onUpstreamData(this: Tagged, chunk: Buffer): void { this[kConn]?.upstreamData(this, chunk); }
function onUpstreamEnd(this: Tagged): void { this[kConn]?.upstreamEnd(this); }
function onUpstreamError(this: Tagged, err: Error): void { this[kConn]?.upstreamError(this, err); }
function onUpstreamClose(this: Tagged): void { this[kConn]?.upstreamClose(this); }
function onUpstreamDrain(this: Tagged): void {
  const c = this[kConn];
  if (c !== undefined && this === c.upstream) c.client.resume();
}
function onHeadTimeout(c: StreamConnection): void { c.headTimeout(); }
function onFirstByteTimeout(c: StreamConnection): void { c.firstByteTimeout(); }
function onLingerTimeout(c: StreamConnection): void { c.lingerTimeout(); }

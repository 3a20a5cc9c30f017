import type net from 'node:net';
import type { ProxyContext } from '../context.js';
import {
  BadRequestError, BadResponseError, FirstByteTimeoutError, HeadTimeoutError, HeadTooLargeError,
  NoUpstreamError, UpstreamClosedError, toHttpStatus, type UpshiftError,
} from '../errors.js';
import { readCookie } from '../http/cookies.js';
import { HeadFinder, HeadSizeExceeded } from '../http/parser.js';
import { parseRequestHead, type RequestHead } from '../http/request-head.js';
import { errorResponse } from '../http/responses.js';
import { injectCookies } from '../http/response-head.js';
import { failureOutcome, headAttempt } from '../judge/outcome.js';
import type { Attempt } from '../judge/types.js';
import { route } from '../routing/router.js';
import type { Plan } from '../routing/strategies/index.js';
import type { VersionState } from '../routing/version.js';
import { DialSequence, type Candidate, type DialHooks } from '../upstream/dial.js';
import type { ServerState } from '../upstream/server.js';
import { ConcurrentExchange } from './concurrent.js';
import { reportClosed, reportConnect, reportFailure, reportRouted, routingCookies } from './report.js';

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

/** Methods whose request can be sent again when a server failed before answering. */
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export class StreamConnection implements DialHooks {
  state: StreamState = 'head';
  readonly client: net.Socket;
  upstream: net.Socket | null = null;
  private upstreamOpen = false;
  private clientOpen = true;
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
  private finder: HeadFinder | null = null;
  private resp: HeadFinder | null = null;
  private respChunks: Buffer[] | null = null;
  private seq: DialSequence | null = null;
  private exchange: ConcurrentExchange | null = null;
  private timer: NodeJS.Timeout | undefined;
  /** The failure that made us retry elsewhere, answered if the retry finds nothing. */
  private retryCause: UpshiftError | null = null;
  /** Judgement: the versions this request was tried on so far, told once it is decided; when it last went out. */
  attempts: Attempt[] = [];
  private sentAt = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Byte total and time at the last sweep that saw it change (idle timeout). */
  private lastTotal = -1;
  private lastActive = 0;
  status: number | undefined;
  error: string | undefined;
  private readonly started = Date.now();

  constructor(
    readonly id: number,
    readonly ctx: ProxyContext,
    client: net.Socket,
  ) {
    this.client = client;
    (client as Tagged)[kConn] = this;
    client.on('data', onClientData);
    client.on('end', onClientEnd);
    client.on('error', onClientError);
    client.on('close', onClientClose);
    client.on('drain', onClientDrain);
    this.timer = setTimeout(onHeadTimeout, ctx.opts.timeouts.head, this);
  }

  get connectTimeout(): number {
    return this.ctx.opts.timeouts.connect;
  }

  // ---------------------------------------------------------------- client side

  clientData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    switch (this.state) {
      case 'piping':
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
        this.exchange!.clientData(chunk);
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
    const chunks = this.chunks!;
    if (chunks.length === 0 && this.ctx.opts.nonHttp === 'tcp' && !startsLikeHttp(chunk)) {
      chunks.push(chunk);
      this.retained += chunk.length;
      this.startTcp();
      return;
    }
    chunks.push(chunk);
    this.retained += chunk.length;
    const finder = this.finder ??= new HeadFinder('REQUEST', this.ctx.opts.limits.headSize);
    const r = finder.feed(chunk);
    if (r === null) return;
    if (r instanceof Error) {
      if (this.ctx.opts.nonHttp === 'tcp' && finder.inFirstLine) {
        this.startTcp();
        return;
      }
      this.fail(r instanceof HeadSizeExceeded ? new HeadTooLargeError(this.ctx.opts.limits.headSize) : new BadRequestError(r.message));
      return;
    }
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.retained);
    if (chunks.length !== 1) this.chunks = [buf];
    let head: RequestHead;
    try {
      head = parseRequestHead(buf, r.end);
    } catch (err) {
      this.fail(err as UpshiftError);
      return;
    }
    this.head = head;
    this.finder = null;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.client.pause();
    this.routeAndDial(head);
  }

  private routeAndDial(head: RequestHead): void {
    const opts = this.ctx.opts;
    const plan = route(this.ctx.table.snapshot, {
      method: head.method,
      sessionCookie: readCookie(head.cookies, opts.cookies.session.name),
      transitionCookie: readCookie(head.cookies, opts.cookies.transition.name),
    }, Date.now());
    this.plan = plan;
    this.retryable = RETRYABLE.has(head.method);
    if (plan.targets.length === 0) {
      this.fail(new NoUpstreamError('no version is configured'));
      return;
    }
    if (plan.fanOut > 1) {
      this.state = 'concurrent';
      this.exchange = new ConcurrentExchange(this, plan);
      return;
    }
    this.state = 'dialing';
    this.seq = new DialSequence(plan.targets, this);
    this.seq.next((err, c, s) => this.dialed(err, c, s));
  }

  private startTcp(): void {
    this.tcp = true;
    this.finder = null;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.client.pause();
    // Not HTTP: no cookies, no method; the newest version that is up takes it.
    const plan = route(this.ctx.table.snapshot, { method: '', sessionCookie: undefined, transitionCookie: undefined }, Date.now());
    this.plan = { ...plan, fanOut: 1, mode: 'INSTANT', reason: 'tcp', sessionMaxAge: undefined, newTransitionId: undefined, gradual: undefined };
    if (plan.targets.length === 0) {
      this.abort('no version is configured');
      return;
    }
    this.state = 'dialing';
    this.seq = new DialSequence(plan.targets, this);
    this.seq.next((err, c, s) => this.dialed(err, c, s));
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

  clientClose(): void {
    this.clientOpen = false;
    if (this.state !== 'closed' && this.state !== 'closing') this.state = 'closing';
    this.seq?.cancel();
    this.exchange?.abort();
    const up = this.upstream;
    // After a clean exchange (client FIN passed on, upstream EOF received)
    // the upstream closes by itself once its writes are flushed; anything
    // else means the client vanished and the upstream must go too.
    if (up !== null && this.upstreamOpen && !(this.clientEnded && up.readableEnded)) up.destroy();
    this.maybeFinish();
  }

  // -------------------------------------------------------------- upstream side

  onSuccess(c: Candidate, _socket: net.Socket, ms: number): void {
    reportConnect(this.ctx, this.id, c.version, c.server, ms);
  }

  onFailure(c: Candidate, err: Error): void {
    reportFailure(this.ctx, this.id, c.version, c.server, err);
    // Only a failed connect ejects a server: it cannot be caused by what a
    // client sends. After the request went out, a close or a stall may be the
    // request's doing (CONNECT to a plain server, a body cut short), and one
    // anonymous client must not be able to roll every other client back.
    // Hung servers are the active health checks' and CONCURRENT's job.
    this.ctx.health.failure(c.version, c.server);
    this.attempts.push({ version: c.version, outcome: failureOutcome(err) });
  }

  /** The request is decided: judgement hears every version it was tried on. */
  private judged(last: Attempt | undefined): void {
    if (last !== undefined) this.attempts.push(last);
    if (this.attempts.length === 0) return;
    this.ctx.judge.record({ attempts: this.attempts, idempotent: this.retryable });
    this.attempts = [];
  }

  private dialed(err: Error | null, c?: Candidate, socket?: net.Socket): void {
    if (this.state !== 'dialing') {
      socket?.destroy();
      return;
    }
    if (err !== null || c === undefined || socket === undefined) {
      if (this.tcp) this.abort('no upstream');
      // When a retry finds no other server, the client hears about the
      // failure that started it (a 504 for a stall), not a bare 503.
      else this.fail(this.retryCause !== null && (err as UpshiftError).code === 'UPS_ERR_NO_UPSTREAM' ? this.retryCause : err as UpshiftError);
      return;
    }
    this.attach(c.version, c.server, socket);
    const chunks = this.chunks!;
    socket.cork();
    for (const chunk of chunks) socket.write(chunk);
    socket.uncork();
    this.sentAt = Date.now();
    if (!this.retryable || this.tcp) this.chunks = null;
    if (this.clientEnded) socket.end();
    if (this.tcp) {
      this.state = 'piping';
    } else {
      this.state = 'response-head';
      // Created on the first response chunk, and only when the fast path below cannot take it.
      this.resp = null;
      this.respChunks = [];
      this.timer = setTimeout(onFirstByteTimeout, this.ctx.opts.timeouts.firstByte, this);
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
    const first = this.version === null;
    this.version = v;
    this.server = s;
    v.open.add(this);
    if (first) reportRouted(this.ctx, this.id, this.plan!, v, true);
    else v.stats.connections++;
  }

  /**
   * Takes over a winning CONCURRENT leg whose response head is already read:
   * `buffered` holds the response bytes so far, the final head at [start, end).
   */
  adopt(v: VersionState, s: ServerState, socket: net.Socket, buffered: Buffer, start: number, end: number, status: number): void {
    this.attach(v, s, socket);
    // Failures after this point fall back through the rest of the plan.
    this.seq = new DialSequence(this.plan!.targets.filter((x) => x !== v), this);
    this.exchange = null;
    this.state = 'response-head';
    this.respChunks = [];
    this.responseHead(buffered, start, end, status);
    this.client.resume();
  }

  /** Falls back from a CONCURRENT exchange in which no version answered well. */
  fallbackFrom(exchange: ConcurrentExchange, rest: readonly VersionState[], err: UpshiftError): void {
    if (this.exchange !== exchange) return;
    this.exchange = null;
    if (rest.length === 0 || this.chunks === null) {
      this.fail(err);
      return;
    }
    this.state = 'dialing';
    this.client.pause();
    this.seq = new DialSequence(rest, this);
    this.seq.next((e, c, s) => this.dialed(e, c, s));
  }

  upstreamData(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.upstream) return;
    if (this.state === 'piping') {
      this.bytesOut += chunk.length;
      if (!this.client.write(chunk)) socket.pause();
      return;
    }
    if (this.state !== 'response-head') return;
    if (this.resp === null) {
      // Fast path: the whole head in the first chunk, a final status, and no
      // Set-Cookie to add: only the status is needed, no parser.
      const plan = this.plan!;
      if (plan.sessionMaxAge === undefined && plan.newTransitionId === undefined) {
        const status = wholeFinalHeadStatus(chunk);
        if (status !== 0) {
          this.responseHead(chunk, 0, 0, status);
          return;
        }
      }
      this.resp = new HeadFinder('RESPONSE', this.ctx.opts.limits.responseHeadSize, true);
    }
    this.respChunks!.push(chunk);
    const r = this.resp.feed(chunk);
    if (r === null) return;
    if (r instanceof Error) {
      this.upstreamFailed(new BadResponseError(this.server!.key, r.message), false);
      return;
    }
    const chunks = this.respChunks!;
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    this.responseHead(buf, r.start, r.end, r.statusCode);
  }

  /** The first final response head is complete: account for it, set cookies, start piping. */
  private responseHead(buf: Buffer, start: number, end: number, status: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.resp = null;
    this.respChunks = null;
    this.chunks = null;
    this.status = status;
    const v = this.version!;
    const plan = this.plan!;
    v.stats.requests++;
    if (status >= 500) v.stats.errors++;
    else if (plan.gradual === v) this.ctx.growShare(v);
    this.ctx.health.success(v, this.server!);
    this.judged(headAttempt(this.ctx.judge, v, status, this.sentAt));
    const cookies = routingCookies(this.ctx, plan, v);
    const out = cookies === null ? buf : injectCookies(buf, start, end, cookies.lines, cookies.names);
    this.state = 'piping';
    this.bytesOut += out.length;
    if (!this.client.write(out)) this.upstream!.pause();
  }

  upstreamEnd(socket: net.Socket): void {
    if (socket !== this.upstream) return;
    if (this.state === 'piping') this.client.end();
    else if (this.state === 'response-head') this.upstreamFailed(new UpstreamClosedError(this.server!.key), true);
  }

  upstreamError(socket: net.Socket, err: Error): void {
    if (socket !== this.upstream) return;
    if (this.state === 'response-head') {
      this.upstreamFailed(new UpstreamClosedError(this.server!.key), true);
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

  /** The current upstream failed before a complete response head. */
  private upstreamFailed(err: UpshiftError, mayRetry: boolean): void {
    const socket = this.upstream!;
    const v = this.version!;
    const s = this.server!;
    clearTimeout(this.timer);
    this.timer = undefined;
    const gotBytes = this.respChunks !== null && this.respChunks.length > 0;
    this.upstream = null;
    this.upstreamOpen = false;
    socket.destroy();
    v.open.delete(this);
    v.stats.errors++;
    this.attempts.push({ version: v, outcome: failureOutcome(err) });
    this.error = err.code;
    reportFailure(this.ctx, this.id, v, s, err);
    if (mayRetry && !gotBytes && this.retryable && this.chunks !== null && this.clientOpen && this.seq !== null) {
      this.retryCause = err;
      this.state = 'dialing';
      this.resp = null;
      this.respChunks = null;
      this.client.pause();
      this.seq.next((e, c, sock) => this.dialed(e, c, sock));
      return;
    }
    this.fail(err);
  }

  firstByteTimeout(): void {
    if (this.state !== 'response-head') return;
    this.upstreamFailed(new FirstByteTimeoutError(this.server!.key), true);
  }

  // ------------------------------------------------------------------ endings

  /** Answers the client with the error's status (nothing was sent yet) and closes. */
  fail(err: UpshiftError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.error = err.code;
    this.status = toHttpStatus(err);
    this.judged(undefined);
    clearTimeout(this.timer);
    this.seq?.cancel();
    this.exchange?.abort();
    this.exchange = null;
    this.chunks = null;
    if (this.upstream !== null && this.upstreamOpen) this.upstream.destroy();
    const client = this.client;
    if (!this.clientOpen) return;
    if (this.bytesOut !== 0 || !client.writable) {
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
    this.seq?.cancel();
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
  sweep(now: number, idle: number): void {
    if (this.state !== 'piping') return;
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
    this.respChunks = null;
    this.version?.open.delete(this);
    reportClosed(this.ctx, this, this.version, this.started);
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

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * The status of a response whose first chunk starts with `HTTP/1.x NNN ` with
 * NNN in 200–599 and holds the blank line that ends the head; 0 otherwise
 * (interim 1xx, a head split across reads, anything unusual), which sends the
 * chunk through the full parser.
 */
function wholeFinalHeadStatus(chunk: Buffer): number {
  if (chunk.length < 16 || chunk[0] !== 0x48 || chunk[1] !== 0x54 || chunk[2] !== 0x54 || chunk[3] !== 0x50 ||
    chunk[4] !== 0x2f || chunk[5] !== 0x31 || chunk[6] !== 0x2e || (chunk[7] !== 0x31 && chunk[7] !== 0x30) || chunk[8] !== 0x20) return 0;
  const d0 = chunk[9]! - 0x30;
  const d1 = chunk[10]! - 0x30;
  const d2 = chunk[11]! - 0x30;
  if (d0 < 2 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || chunk[12] !== 0x20) return 0;
  if (chunk.indexOf(CRLFCRLF, 13) === -1) return 0;
  return d0 * 100 + d1 * 10 + d2;
}

/** First byte of an HTTP/1 request line is an uppercase method letter. */
function startsLikeHttp(chunk: Buffer): boolean {
  const c = chunk[0]!;
  return c >= 0x41 && c <= 0x5a;
}

// Socket handlers: module functions, `this` is the socket.
function onClientData(this: Tagged, chunk: Buffer): void { this[kConn]!.clientData(chunk); }
function onClientEnd(this: Tagged): void { this[kConn]!.clientEnd(); }
function onClientError(this: Tagged, err: Error): void {
  const c = this[kConn]!;
  c.error ??= (err as NodeJS.ErrnoException).code ?? err.message;
}
function onClientClose(this: Tagged): void { this[kConn]!.clientClose(); }
function onClientDrain(this: Tagged): void {
  const c = this[kConn]!;
  if (c.state === 'piping' || c.state === 'response-head') c.upstream?.resume();
}
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

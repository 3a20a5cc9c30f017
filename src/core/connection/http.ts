import type net from 'node:net';
import type { ProxyContext } from '../context.js';
import {
  BadRequestError, BadResponseError, FirstByteTimeoutError, HeadTimeoutError, HeadTooLargeError,
  NoUpstreamError, UpstreamClosedError, toHttpStatus, type UpshiftError,
} from '../errors.js';
import { readCookie } from '../http/cookies.js';
import { BadResponseHead, ChunkedScanner, forwardRequestHead, headLines, parseResponseHead, rewriteResponseHead, spliceResponseHead, type ResponseHead } from '../http/framing.js';
import { HeadFinder, HeadSizeExceeded } from '../http/parser.js';
import { parseRequestHead, readWholeRequestHead, type RequestHead } from '../http/request-head.js';
import { errorResponse } from '../http/responses.js';
import { failureOutcome, headAttempt } from '../judge/outcome.js';
import type { Attempt } from '../judge/types.js';
import { route } from '../routing/router.js';
import type { Plan } from '../routing/strategies/index.js';
import type { VersionState } from '../routing/version.js';
import { DialSequence, type Candidate, type DialHooks } from '../upstream/dial.js';
import type { PoolUser, UpstreamPool } from '../upstream/pool.js';
import type { ServerState } from '../upstream/server.js';
import { HttpConcurrent } from './http-concurrent.js';
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
 *   `inbuf` (the client is paused once they exceed `limits.headSize`) and
 *   are parsed only after the current response was written: responses leave
 *   in request order by construction.
 * - Request bytes (rewritten head, then body bytes the framer accepted) not
 *   yet written to an upstream are in `pending`; those written are kept in
 *   `sent` while the request may be retried and they fit `limits.retryBuffer`,
 *   else `sent` is null and a failure is answered, not retried.
 * - An upstream socket is returned to the pool only when its response was
 *   read to the end by its framing, the request was sent completely, the
 *   server did not ask to close, and no byte followed the response.
 * - Backpressure: a write that returns false pauses the other side; 'drain'
 *   resumes it.
 * - Socket handlers are module functions (client) or the pool's (upstream):
 *   no closures per connection or per request.
 */
export type HttpState = 'head' | 'routing' | 'concurrent' | 'exchange' | 'tunnel' | 'closing' | 'closed';

const kConn = Symbol('upshift.http.connection');
type Tagged = net.Socket & { [kConn]?: HttpConnection };

/** Idempotent methods (RFC 9110 §9.2.2): sending one again after a failure before any response byte is safe. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

const enum Body { None, Length, Chunked, Eof }

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** Body bytes that came with a rewritten head are copied behind it up to this size (one write); larger ones go by writev. */
const COPY_BODY = 16 * 1024;

export class HttpConnection implements DialHooks, PoolUser {
  state: HttpState = 'head';
  readonly client: net.Socket;
  readonly pool: UpstreamPool;
  clientOpen = true;
  clientEnded = false;
  /** Unconsumed client bytes: the head being read, or pipelined requests behind the current one. */
  private inbuf: Buffer | null = null;
  private finder: HeadFinder | null = null;
  private timer: NodeJS.Timeout | undefined;

  // The request in flight.
  req: RequestHead | null = null;
  plan: Plan | null = null;
  private seq: DialSequence | null = null;
  private websocket = false;
  reqDone = true;
  private reqLeft = 0;
  private reqScan: ChunkedScanner | null = null;
  retryable = false;
  /** Judgement: the versions the request in flight was tried on so far, told once it is decided; when it last went out (0: unknown). */
  attempts: Attempt[] = [];
  private sentAt = 0;
  /** Request bytes not yet written to the current upstream. */
  pending: Buffer[] = [];
  pendingBytes = 0;
  /** Request bytes written to the current upstream, kept for a retry; null once too many or not retryable. */
  sent: Buffer[] | null = null;
  private sentBytes = 0;
  private retriesLeft = 0;
  private noReuse = false;
  private reusing = false;
  private routed = false;
  private closeAfter = false;
  /** See `isAmbiguous`: answered, then neither connection carries another message. */
  private ambiguous = false;
  private exchange: HttpConcurrent | null = null;

  // The upstream and its response.
  private up: net.Socket | null = null;
  private upVersion: VersionState | null = null;
  private upServer: ServerState | null = null;
  private upReused = false;
  private upDirty = false;
  /** True until the final response head was read. */
  private rhead = false;
  /** Created only when a response head arrives in pieces (see `responseHeadBytes`). */
  private rfinder: HeadFinder | null = null;
  private rbuf: Buffer | null = null;
  private rgot = 0;
  private rsent = 0;
  private rmode = Body.None;
  private rleft = 0;
  /** The response body ended (its framing said so). */
  private rdone = false;
  private rscan: ChunkedScanner | null = null;
  private rclose = false;
  /** Line offsets of the response head being read, and its lines as strings when it is rewritten. */
  private readonly offs: number[] = [];
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
    (client as Tagged)[kConn] = this;
    client.on('data', onClientData);
    client.on('end', onClientEnd);
    client.on('error', onClientError);
    client.on('close', onClientClose);
    client.on('drain', onClientDrain);
  }

  get connectTimeout(): number {
    return this.ctx.opts.timeouts.connect;
  }

  get limit(): UpstreamPool {
    return this.pool;
  }

  // ---------------------------------------------------------------- client side

  clientData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    switch (this.state) {
      case 'tunnel':
        if (!this.up!.write(chunk)) this.client.pause();
        return;
      case 'head':
        this.inbuf = this.inbuf === null ? chunk : Buffer.concat([this.inbuf, chunk]);
        this.headBytes(chunk);
        return;
      case 'routing':
      case 'concurrent':
      case 'exchange': {
        const rest = this.reqDone ? chunk : this.bodyBytes(chunk);
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
    this.inbuf = this.inbuf === null ? rest : Buffer.concat([this.inbuf, rest]);
    if (this.inbuf.length > this.ctx.opts.limits.headSize) this.client.pause();
  }

  /** `chunk` (already appended to `inbuf`) continues a request head. */
  private headBytes(chunk: Buffer | null): void {
    const buf = this.inbuf!;
    let finder = this.finder;
    let r;
    if (finder === null) {
      const whole = readWholeRequestHead(buf, this.ctx.opts.limits.headSize);
      if (whole !== null) {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.inbuf = null;
        this.startRequest(whole, buf, whole.length);
        return;
      }
      finder = this.finder = new HeadFinder('REQUEST', this.ctx.opts.limits.headSize);
      r = finder.feed(buf);
      // A head in pieces: its time counts from now (the first one's from the connection's start).
      if (r === null && this.requests > 0) this.since = Date.now();
    } else {
      r = finder.feed(chunk!);
    }
    if (r === null) return;
    if (r instanceof Error) {
      this.fail(r instanceof HeadSizeExceeded ? new HeadTooLargeError(this.ctx.opts.limits.headSize) : new BadRequestError(r.message));
      return;
    }
    this.finder = null;
    clearTimeout(this.timer);
    this.timer = undefined;
    let head: RequestHead;
    try {
      head = parseRequestHead(buf, r.end);
    } catch (err) {
      this.fail(err as UpshiftError);
      return;
    }
    this.inbuf = null;
    this.startRequest(head, buf, r.end);
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
    this.retryable = IDEMPOTENT.has(head.method);
    this.attempts = [];
    this.retriesLeft = opts.http.retries;
    this.noReuse = false;
    this.routed = false;
    this.rsent = 0;
    this.sent = this.retryable ? [] : null;
    this.sentBytes = 0;
    // remoteAddress asks the kernel each time: only when a forwarding field wants it, once per connection.
    const remote = opts.http.xForwardedFor || opts.http.forwarded ? (this.remote ??= this.client.remoteAddress ?? null) : null;
    const out = forwardRequestHead(
      end === buf.length ? buf : buf.subarray(0, end), head, this.websocket,
      opts.http.xForwardedFor ? remote ?? 'unknown' : undefined,
      opts.http.forwarded ? `for=${forwardedNode(remote ?? undefined)};proto=http` : undefined,
    );
    this.pending.push(out);
    this.pendingBytes = out.length;
    if (head.chunked) {
      this.reqScan = new ChunkedScanner(opts.limits.headSize);
      this.reqDone = false;
    } else if (head.contentLength > 0) {
      this.reqLeft = head.contentLength;
      this.reqDone = false;
    } else {
      this.reqDone = true;
    }
    this.state = 'routing';
    // Body bytes that came with the head are framed before anything is sent:
    // a malformed chunk line here is refused with nothing forwarded.
    if (end < buf.length) {
      const body = buf.subarray(end);
      const rest = this.reqDone ? body : this.bodyBytes(body);
      if (this.state !== 'routing') return;
      if (rest !== null) this.queue(rest);
    }
    const plan = route(this.ctx.table.snapshot, {
      method: head.method,
      sessionCookie: readCookie(head.cookies, opts.cookies.session.name),
      transitionCookie: readCookie(head.cookies, opts.cookies.transition.name),
    }, Date.now());
    this.plan = plan;
    if (plan.targets.length === 0) {
      this.fail(new NoUpstreamError('no version is configured'));
      return;
    }
    if (plan.fanOut > 1 && !this.websocket) {
      this.state = 'concurrent';
      this.exchange = new HttpConcurrent(this, plan);
      return;
    }
    // The usual case first: the chosen version has one server, it is up and
    // has an idle connection. No failover loop is built unless it fails.
    const first = plan.targets[0]!;
    if (first.servers.length === 1 && !this.websocket) {
      const server = first.servers[0]!;
      const socket = server.available(Date.now()) ? this.pool.take(server, this) : undefined;
      if (socket !== undefined) {
        this.seq = null;
        this.attach(first, server, socket, true);
        this.writePending();
        return;
      }
    }
    this.seq = new DialSequence(plan.targets, this);
    this.seq.next(this.dialedCb);
  }

  /**
   * Request body bytes: frames them, sends (or queues) the part that belongs
   * to the request and returns what follows it (the next request), or null.
   */
  private bodyBytes(chunk: Buffer): Buffer | null {
    let piece = chunk;
    let rest: Buffer | null = null;
    if (this.reqScan !== null) {
      let end: number;
      try {
        end = this.reqScan.scan(chunk, 0);
      } catch (err) {
        this.badBody((err as Error).message);
        return null;
      }
      if (end !== -1) {
        this.reqDone = true;
        if (this.reqScan.trailers) this.ambiguous = true;
        this.reqScan = null;
        if (end < chunk.length) {
          piece = chunk.subarray(0, end);
          rest = chunk.subarray(end);
        }
      }
    } else {
      const n = this.reqLeft;
      if (n < chunk.length) {
        piece = chunk.subarray(0, n);
        rest = chunk.subarray(n);
      }
      this.reqLeft -= piece.length;
      if (this.reqLeft === 0) this.reqDone = true;
    }
    if (piece.length > 0) this.sendBody(piece);
    return rest;
  }

  private sendBody(piece: Buffer): void {
    if (this.state === 'exchange' && this.up !== null) {
      this.keepSent(piece);
      if (!this.up!.write(piece)) this.client.pause();
      return;
    }
    if (this.state === 'concurrent') {
      this.exchange!.body(piece);
      return;
    }
    this.pending.push(piece);
    this.pendingBytes += piece.length;
    // Not connected yet: hold at most what a retry could replay, then stop reading.
    if (this.pendingBytes > Math.max(this.ctx.opts.limits.retryBuffer, 16384)) this.client.pause();
  }

  /** Remembers bytes written upstream, for a retry, within `limits.retryBuffer`. */
  keepSent(piece: Buffer): void {
    const sent = this.sent;
    if (sent === null) return;
    this.sentBytes += piece.length;
    if (this.sentBytes > this.ctx.opts.limits.retryBuffer) {
      this.sent = null;
      return;
    }
    sent.push(piece);
  }

  /** The request body broke its own framing (invalid chunk). */
  private badBody(reason: string): void {
    this.fail(new BadRequestError(reason));
  }

  clientEnd(): void {
    this.clientEnded = true;
    switch (this.state) {
      case 'head':
        if (this.inbuf !== null) this.fail(new BadRequestError('incomplete request head'));
        else this.close();
        return;
      case 'routing':
      case 'concurrent':
      case 'exchange':
        // A request cut short can never complete; a complete one still gets its answer.
        if (!this.reqDone) this.abort('client closed mid-request');
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
    this.seq?.cancel();
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

  reuse(c: Candidate): net.Socket | undefined {
    if (this.noReuse) return undefined;
    const s = this.pool.take(c.server, this);
    if (s !== undefined) this.reusing = true;
    return s;
  }

  onSuccess(c: Candidate, _socket: net.Socket, ms: number): void {
    report.reportConnect(this.ctx, this.id, c.version, c.server, ms);
  }

  onFailure(c: Candidate, err: Error): void {
    report.reportFailure(this.ctx, this.id, c.version, c.server, err);
    // Only a failed connect ejects a server (as in stream mode): after the
    // request went out, a close or a stall may be the request's doing.
    this.ctx.health.failure(c.version, c.server);
    this.attempts.push({ version: c.version, outcome: failureOutcome(err) });
  }

  /** The request in flight is decided: judgement hears every version it was tried on. */
  private judged(last: Attempt | undefined): void {
    if (last !== undefined) this.attempts.push(last);
    if (this.attempts.length === 0) return;
    this.ctx.judge.record({ attempts: this.attempts, idempotent: this.retryable });
    this.attempts = [];
  }

  /** A server failed after the request went out: reported and counted, never an ejection. */
  reportFailure(v: VersionState, s: ServerState, err: Error): void {
    report.reportFailure(this.ctx, this.id, v, s, err);
  }

  private readonly dialedCb = (err: Error | null, c?: Candidate, socket?: net.Socket): void => this.dialed(err, c, socket);

  private dialed(err: Error | null, c?: Candidate, socket?: net.Socket): void {
    const reused = this.reusing;
    this.reusing = false;
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
      this.fail(err as UpshiftError);
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
    this.upDirty = false;
    this.state = 'exchange';
    this.rhead = true;
    this.rfinder = null;
    this.rbuf = null;
    this.rgot = 0;
    if (!reused) v.stats.connections++;
    v.open.add(this);
    if (!this.routed) {
      this.routed = true;
      const plan = this.plan!;
      const ev = this.ctx.events;
      if (ev.enabled('route')) {
        ev.publish('route', { proxyId: this.ctx.id, connectionId: this.id, uuid: v.uuid, version: v.version, mode: plan.mode, reason: plan.reason });
      }
    }
    const intended = this.plan!.targets[0];
    if (intended !== undefined && intended !== v && !intended.spec.transition.mode.startsWith('CONC')) {
      v.stats.fallbacksIn++;
      intended.stats.fallbacksOut++;
      const ev = this.ctx.events;
      if (ev.enabled('fallback')) {
        ev.publish('fallback', { proxyId: this.ctx.id, connectionId: this.id, fromUuid: intended.uuid, fromVersion: intended.version, toUuid: v.uuid, toVersion: v.version, reason: this.plan!.reason });
      }
    }
    const now = Date.now();
    this.sentAt = now;
    const deadline = v.spec.transition.firstByteTimeout ?? this.ctx.opts.timeouts.firstByte;
    // A deadline long against the sweep's period is swept (at most a few
    // per cent late); a short one gets a timer of its own.
    if (deadline >= this.ctx.sweepEvery * 16) this.firstByteAt = now + deadline;
    else {
      this.firstByteAt = 0;
      this.timer = setTimeout(onFirstByteTimeout, deadline, this);
    }
  }

  private writePending(): void {
    const socket = this.up!;
    const pending = this.pending;
    if (pending.length > 1) socket.cork();
    for (let i = 0; i < pending.length; i++) {
      const piece = pending[i]!;
      this.keepSent(piece);
      socket.write(piece);
    }
    if (pending.length > 1) socket.uncork();
    this.pending = [];
    this.pendingBytes = 0;
    if (this.clientOpen && !this.client.readableFlowing && !this.clientEnded) this.client.resume();
  }

  /** CONCURRENT picked `socket` (lent to us already); `buffered` is what it answered so far. */
  adopt(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean, buffered: Buffer | null): void {
    this.exchange = null;
    this.pool.lend(socket, this);
    // The request was written to every leg from `pending`; it becomes what a retry replays.
    this.sent = this.retryable && this.pending.length !== 0 ? this.pending : null;
    this.sentBytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.attach(v, s, socket, reused);
    // The head may be in `buffered` already: the time to it is not known here.
    this.sentAt = 0;
    this.seq = new DialSequence(this.plan!.targets.filter((x) => x !== v), this);
    if (buffered !== null && buffered.length > 0) this.upstreamData(socket, buffered);
    if (this.clientOpen && !this.clientEnded) this.client.resume();
  }

  /** CONCURRENT failed on every leg without an answer: fall back through the rest of the plan. */
  fallbackFrom(rest: readonly VersionState[], err: UpshiftError): void {
    this.exchange = null;
    // `pending` still holds the whole request unless it outgrew the retry buffer.
    if (rest.length === 0 || this.pending.length === 0 || !this.clientOpen) {
      this.fail(err);
      return;
    }
    this.state = 'routing';
    this.seq = new DialSequence(rest, this);
    this.seq.next(this.dialedCb);
  }

  upstreamData(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.up) return;
    if (this.state === 'tunnel') {
      this.bytesOut += chunk.length;
      if (!this.client.write(chunk)) socket.pause();
      return;
    }
    if (this.state !== 'exchange') return;
    this.rgot += chunk.length;
    if (!this.rhead) {
      this.responseBody(chunk);
      return;
    }
    this.rbuf = this.rbuf === null ? chunk : Buffer.concat([this.rbuf, chunk]);
    this.responseHeadBytes(chunk);
  }

  /** `chunk` (already appended to `rbuf`) continues a response head. */
  private responseHeadBytes(chunk: Buffer): void {
    const buf = this.rbuf!;
    const max = this.ctx.opts.limits.responseHeadSize;
    let info: ResponseHead | null = null;
    if (this.rfinder === null) {
      // Fast path: the whole head is here (nearly always, in one read). A
      // head that ends with bare LFs, or that parseResponseHead refuses,
      // takes the incremental parser, so its verdict stays the one that counts.
      const at = buf.indexOf(CRLFCRLF);
      if (at !== -1 && at + 4 <= max) {
        try {
          info = parseResponseHead(buf, 0, at + 4, this.offs);
          if (info.end !== at + 4) info = null;
        } catch {
          info = null;
        }
      }
      if (info === null) {
        this.rfinder = new HeadFinder('RESPONSE', max);
        chunk = buf;
      }
    }
    if (info === null) {
      const r = this.rfinder!.feed(chunk);
      if (r === null) return;
      if (r instanceof Error) {
        this.upstreamFailed(new BadResponseError(this.upServer!.key, r.message), false);
        return;
      }
      try {
        info = parseResponseHead(buf, 0, r.end, this.offs);
      } catch (err) {
        this.upstreamFailed(new BadResponseError(this.upServer!.key, (err as BadResponseHead).message), false);
        return;
      }
      info.end = r.end;
    }
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
        const out = rewriteResponseHead(headLines(buf, this.offs, this.lines), null, null, null, false);
        this.rsent += out.length;
        this.bytesOut += out.length;
        this.client.write(out);
      }
      this.rfinder = null;
      this.rbuf = rest;
      if (rest !== null) this.responseHeadBytes(rest);
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.firstByteAt = 0;
    this.rhead = false;
    this.rfinder = null;
    this.rbuf = null;
    this.status = status;
    const v = this.upVersion!;
    const plan = this.plan!;
    v.stats.requests++;
    if (status >= 500) v.stats.errors++;
    else if (plan.gradual === v) this.ctx.growShare(v);
    this.ctx.health.success(v, this.upServer!);
    this.judged(headAttempt(this.ctx.judge, v, status, this.sentAt));

    const method = this.req!.method;
    this.rdone = false;
    if (method === 'HEAD' || status === 204 || status === 304) {
      this.rmode = Body.None;
    } else if (info.chunked) {
      this.rmode = Body.Chunked;
      this.rscan = new ChunkedScanner(this.ctx.opts.limits.responseHeadSize);
    } else if (info.otherCoding || info.contentLength === -1) {
      this.rmode = Body.Eof;
    } else {
      this.rmode = info.contentLength === 0 ? Body.None : Body.Length;
      this.rleft = info.contentLength;
    }
    this.rclose = info.close || this.rmode === Body.Eof;
    // The client learns where a close-delimited body ends only by our close;
    // a request still being sent cannot be followed by another on this connection.
    // A refused upgrade leaves the connection speaking HTTP/1.1 (RFC 9110 §7.8): no close for that.
    if (this.rmode === Body.Eof || !this.reqDone || this.clientEnded || this.ambiguous || this.ctx.draining) this.closeAfter = true;
    const connection = this.closeAfter ? 'close' : this.req!.versionMinor === 0 ? 'keep-alive' : null;
    const cookies = report.routingCookies(this.ctx, plan, v);
    const n = end < buf.length ? this.frameBody(buf, end) : 0;
    if (n === -1) return;
    const asIs = info.plain && cookies === null && connection === null;
    const body = n === 0 || asIs ? null : buf.subarray(end, end + n);
    let out: Buffer;
    // Whether `out` carries the body bytes too (else they follow it by writev).
    const included = body === null || n <= COPY_BODY;
    if (asIs) {
      // Nothing to change (the common case): the head goes on as it came, with
      // the body bytes that followed it, in one write and without a copy.
      out = end + n === buf.length ? buf : buf.subarray(0, end + n);
    } else if (info.plain && !(cookies !== null && info.setCookie)) {
      // Cookies or our Connection field to add: spliced into the bytes, with
      // a small body in the same buffer (one write, one segment).
      out = spliceResponseHead(buf, this.offs, cookies?.lines ?? null, connection, n <= COPY_BODY ? body : null);
    } else {
      out = rewriteResponseHead(headLines(buf, this.offs, this.lines), cookies?.lines ?? null, cookies?.names ?? null, connection, false);
      if (body !== null && n <= COPY_BODY) out = Buffer.concat([out, body]);
    }
    const sent = out.length + (included ? 0 : n);
    this.rsent += sent;
    this.bytesOut += sent;
    const done = this.rmode === Body.None || this.rdone;
    let ok: boolean;
    if (included) {
      ok = this.client.write(out);
    } else {
      // A large body's first bytes: head and body leave in one writev (one syscall), without a copy.
      this.client.cork();
      this.client.write(out);
      ok = this.client.write(body!);
      this.client.uncork();
    }
    if (done) this.responseDone();
    else if (!ok) this.up!.pause();
  }

  private responseBody(chunk: Buffer): void {
    const n = this.frameBody(chunk, 0);
    if (n === -1) return;
    const done = this.rdone;
    if (n > 0) {
      this.rsent += n;
      this.bytesOut += n;
      if (!this.client.write(n === chunk.length ? chunk : chunk.subarray(0, n)) && !done) this.up!.pause();
    }
    if (done) this.responseDone();
  }

  /**
   * How many bytes of `chunk` from `from` on belong to the response body;
   * sets `rdone` when the body ends in it. Bytes past the end mark the
   * upstream as unusable. -1 when the body broke its framing (the connection
   * is aborted).
   */
  private frameBody(chunk: Buffer, from: number): number {
    switch (this.rmode) {
      case Body.Length: {
        const n = Math.min(chunk.length - from, this.rleft);
        this.rleft -= n;
        if (this.rleft === 0) {
          this.rdone = true;
          if (from + n < chunk.length) this.upDirty = true;
        }
        return n;
      }
      case Body.Chunked: {
        let end: number;
        try {
          end = this.rscan!.scan(chunk, from);
        } catch (err) {
          // Mid-body: the client must see a cut response, not a clean end.
          this.abort(`bad chunked response: ${(err as Error).message}`);
          return -1;
        }
        if (end === -1) return chunk.length - from;
        this.rdone = true;
        if (end < chunk.length) this.upDirty = true;
        return end - from;
      }
      case Body.Eof:
        return chunk.length - from;
      default:
        if (chunk.length > from) this.upDirty = true;
        return 0;
    }
  }

  /** The response was written to the end: free the upstream, then serve the next request or close. */
  private responseDone(): void {
    const socket = this.up!;
    this.up = null;
    this.upVersion!.open.delete(this);
    this.rscan = null;
    this.seq = null;
    if (!this.rclose && this.reqDone && !this.upDirty && !this.ambiguous && !socket.readableEnded) {
      socket.resume();
      this.pool.release(socket);
    } else {
      this.pool.discard(socket);
    }
    // Nothing more can come from a client that asked to close (or sent its
    // FIN) once its request was read whole and nothing follows it.
    const quiet = (this.req!.close || this.clientEnded) && this.reqDone && this.inbuf === null && !this.ambiguous;
    this.req = null;
    this.plan = null;
    this.sent = null;
    this.pending = [];
    // What follows is a new response: an error for the next request may be written whole.
    this.rsent = 0;
    if (this.closeAfter || this.ctx.draining) {
      this.close(quiet);
      return;
    }
    this.state = 'head';
    if (this.inbuf !== null && this.client.writableNeedDrain) {
      // Pipelined requests from a client that does not read its answers:
      // the next one waits until the answers so far have left.
      this.client.pause();
      this.awaitDrain = true;
      return;
    }
    this.nextRequest();
  }

  private nextRequest(): void {
    if (this.inbuf !== null) {
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
      this.upstreamFailed(new BadResponseError(this.upServer!.key, '101 to a request that asked for no upgrade'), false);
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.rhead = false;
    this.rfinder = null;
    this.rbuf = null;
    this.status = 101;
    const v = this.upVersion!;
    v.stats.requests++;
    this.ctx.health.success(v, this.upServer!);
    this.judged(headAttempt(this.ctx.judge, v, 101, this.sentAt));
    this.state = 'tunnel';
    const out = rewriteResponseHead(headLines(buf, this.offs, this.lines), null, null, null, true);
    this.bytesOut += out.length;
    this.client.write(out);
    if (rest !== null) {
      this.bytesOut += rest.length;
      this.client.write(rest);
    }
    // Bytes the client sent after its upgrade request belong to the new protocol.
    const early = this.inbuf;
    this.inbuf = null;
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
    if (this.rhead) this.upstreamFailed(new UpstreamClosedError(this.upServer!.key), true);
    else if (this.rmode === Body.Eof) this.responseDone();
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
      if (this.rhead) this.upstreamFailed(new UpstreamClosedError(this.upServer!.key), true);
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

  /** The upstream failed before a complete response head. */
  private upstreamFailed(err: UpshiftError, mayRetry: boolean): void {
    const socket = this.up!;
    const v = this.upVersion!;
    const s = this.upServer!;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.up = null;
    this.rhead = false;
    this.rfinder = null;
    this.rbuf = null;
    this.pool.discard(socket);
    v.open.delete(this);
    const nothing = this.rgot === 0;
    // A pooled connection the server closed while it sat idle is not a
    // failure of the server (its keep-alive timeout beat ours): no health
    // penalty, and one fresh connection is tried before moving on.
    const stale = this.upReused && nothing && err.code === 'UPS_ERR_UPSTREAM_CLOSED';
    if (!stale) {
      v.stats.errors++;
      this.error = err.code;
      this.reportFailure(v, s, err);
      this.attempts.push({ version: v, outcome: failureOutcome(err) });
    }
    if (mayRetry && nothing && this.rsent === 0 && this.retryable && this.sent !== null && this.clientOpen && this.plan !== null && this.retriesLeft > 0) {
      this.retriesLeft--;
      this.pending = this.sent.concat(this.pending);
      this.pendingBytes = this.sentBytes;
      this.sent = [];
      this.sentBytes = 0;
      this.state = 'routing';
      if (stale && !this.noReuse) {
        this.noReuse = true;
        this.seq = new DialSequence(this.plan.targets, this);
      } else if (this.seq === null) {
        // The first choice came straight from the pool: the loop starts past it.
        this.seq = new DialSequence(this.plan.targets, this);
        this.seq.exclude(s);
      }
      this.seq.next(this.dialedCb);
      return;
    }
    this.fail(err);
  }

  firstByteTimeout(): void {
    if (this.state !== 'exchange' || !this.rhead) return;
    this.upstreamFailed(new FirstByteTimeoutError(this.upServer!.key), true);
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
    this.judged(undefined);
    if (this.rsent !== 0) {
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
    this.seq?.cancel();
    this.seq = null;
    this.exchange?.abort();
    this.exchange = null;
    this.inbuf = null;
    this.pending = [];
    this.sent = null;
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
    if (this.state === 'head' && this.inbuf === null) this.close();
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
        if ((this.bytesIn === 0 || this.inbuf !== null) && now - this.since >= t.head) {
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
    else if (this.inbuf !== null) this.fail(new HeadTimeoutError());
  }

  lingerTimeout(): void {
    if (this.clientOpen) this.client.destroy();
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.dropUpstream();
    report.reportClosed(this.ctx, this, this.upVersion, this.started);
  }

  /** Ends the connection now (drain deadline passed, or its version was removed). */
  destroy(): void {
    this.abort('closed by proxy');
  }

  /** True while no request is in flight and none has started (safe to drop when closing). */
  get idleBeforeHead(): boolean {
    return this.state === 'head' && this.inbuf === null;
  }
}

/** Methods whose requests have no defined body semantics (RFC 9110 §9.3). */
const BODILESS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Valid requests that parsers are known to read differently: a body on a
 * method that defines none, Content-Length with leading zeros or unusual
 * whitespace, look-alike framing names (`Content_Length`), a target that is
 * not origin-form or hides NUL/CR/LF/backslashes (and, found later, chunked
 * trailers). They are forwarded, and afterwards neither
 * the client connection nor the upstream connection carries another message
 * (the advice of RFC 9112 §6.3 for doubtful framing): if the origin read the
 * message differently, what it thinks comes next dies with its connection
 * instead of meeting another client's request on a pooled one.
 */
function isAmbiguous(head: RequestHead, raw: Buffer, end: number): boolean {
  const hasBody = head.chunked || head.contentLength > 0;
  if (hasBody && BODILESS.has(head.method)) return true;
  const t = head.target;
  if (t.charCodeAt(0) !== 0x2f) return t !== '*' || head.method !== 'OPTIONS';
  if (t.indexOf('\\') !== -1 || (t.indexOf('%') !== -1 && /%(?:00|0d|0a)/i.test(t))) return true;
  let checkLength = false;
  for (const [name, value] of head.headers) {
    switch (name.length) {
      case 14: {
        const lower = name.toLowerCase();
        if (lower === 'content_length') return true;
        if (lower === 'content-length' && value.length > 1 && value.charCodeAt(0) === 0x30) return true;
        if (lower === 'content-length') checkLength = true;
        break;
      }
      case 17:
        if (name.toLowerCase() === 'transfer_encoding') return true;
        break;
      default:
    }
  }
  if (checkLength) {
    // Only "Content-Length: N" or "Content-Length:N": tabs, extra or trailing spaces are read differently by different origins.
    const text = raw.toString('latin1', 0, end);
    for (const [name, value] of head.headers) {
      if (name.length === 14 && name.toLowerCase() === 'content-length'
        && !text.includes(`\r\n${name}: ${value}\r\n`) && !text.includes(`\r\n${name}:${value}\r\n`)) return true;
    }
  }
  return false;
}

/** A Content-Length field that is a list ("5, 5"), or repeated. */
function listedLength(head: RequestHead): boolean {
  let n = 0;
  for (const [name, value] of head.headers) {
    if (name.length === 14 && name.toLowerCase() === 'content-length' && (++n > 1 || value.indexOf(',') !== -1)) return true;
  }
  return false;
}

function isWebSocket(head: RequestHead): boolean {
  for (const [name, value] of head.headers) {
    if (name.length === 7 && name.toLowerCase() === 'upgrade') {
      for (const p of value.split(',')) if (p.trim().toLowerCase() === 'websocket') return true;
    }
  }
  return false;
}

/** A `Forwarded` node (RFC 7239 §6): IPv6 addresses are quoted and bracketed. */
function forwardedNode(addr: string | undefined): string {
  if (addr === undefined) return 'unknown';
  return addr.includes(':') ? `"[${addr}]"` : addr;
}

// Socket handlers: module functions, `this` is the socket.
function onClientData(this: Tagged, chunk: Buffer): void { this[kConn]!.clientData(chunk); }
function onClientEnd(this: Tagged): void { this[kConn]!.clientEnd(); }
function onClientError(this: Tagged, err: Error): void {
  const c = this[kConn]!;
  c.error ??= (err as NodeJS.ErrnoException).code ?? err.message;
}
function onClientClose(this: Tagged): void { this[kConn]!.clientClose(); }
function onClientDrain(this: Tagged): void { this[kConn]!.clientDrained(); }
function onFirstByteTimeout(c: HttpConnection): void { c.firstByteTimeout(); }

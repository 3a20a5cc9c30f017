import type net from 'node:net';
import type { ProxyContext } from '../context.js';
import { BadRequestError, BadResponseError, NoUpstreamError, type UpshiftError } from '../errors.js';
import { forwardWith } from '../http/forward-request.js';
import { isAmbiguous, isWebSocket } from '../http/request-checks.js';
import type { RequestHead } from '../http/request-head.js';
import { urlRewrite, type UrlRewrite } from '../http/location.js';
import type { ResponseHead } from '../http/response-head.js';
import type { Plan } from '../routing/strategies/index.js';
import type { VersionState } from '../routing/version.js';
import { isIdempotent } from '../upstream/failover.js';
import type { UpstreamPool } from '../upstream/pool.js';
import type { ServerState } from '../upstream/server.js';
import { Attempt } from './attempt.js';
import { replicaOf } from './compare-legs.js';
import { Concurrent } from './concurrent.js';
import { PooledLegs } from './concurrent-legs.js';
import { Exchange, planFor, type Pooled } from './exchange.js';
import { HttpResponse } from './http-response.js';
import { PooledRequest } from './pooled-request.js';
import { routingCookies } from './report.js';
import type { RequestOwner } from './request-owner.js';
import { RequestBody } from './request-body.js';

type Phase = 'idle' | 'routing' | 'concurrent' | 'exchange';

/**
 * http mode: the request in flight on a client connection, from its head to
 * the end of its answer. It is routed by its own cookies, held until a
 * server is connected, sent (again, from its first byte, when failover says
 * so), and its answer is framed to the client (`HttpResponse`) — or, after a
 * 101 to a WebSocket upgrade, the connection takes the upstream over.
 *
 *   idle ──▶ routing ──▶ exchange ──▶ (answer written to the end) ──▶ idle
 *               │  ▲          │  └──▶ idle (101: the connection pipes it)
 *               │  └─ retry ──┘ (failure before any response byte, idempotent, replay kept)
 *               └──▶ concurrent ──▶ (winner adopted) exchange
 *
 * Invariants:
 * - The request's bytes (held until connected, kept for a retry) are its
 *   `RequestBody`'s: see the invariants there.
 * - An upstream socket is returned to the pool only when its response was
 *   read to the end by its framing, the request was sent completely, the
 *   server did not ask to close, and no byte followed the response.
 * - The pool sends the upstream's events here (one object per connection,
 *   reused for each request: no closures per request).
 *
 * Failover's side, the dial loop's answer and the pool's rule are
 * `PooledRequest`'s, shared with the uws engine.
 */
export class HttpRequest extends PooledRequest<'idle'> {
  phase: Phase = 'idle';
  head: RequestHead | null = null;
  plan: Plan | null = null;
  private websocket = false;
  /** The request's framing and the bytes held and kept of it. */
  readonly body: RequestBody;
  private retryable = false;
  private closeAfter = false;
  /** The upstream, until its head is kept, and its first-byte deadline. */
  protected readonly att: Attempt;
  /** The answer, as it goes to the client. */
  private readonly res: HttpResponse;
  private remote: string | null | undefined;
  /** What each request's exchange takes its server connections from (made once: it is the same for every request). */
  private readonly pooled: Pooled;

  constructor(private readonly owner: RequestOwner, private readonly ctx: ProxyContext, readonly pool: UpstreamPool) {
    super();
    const limits = ctx.opts.limits;
    this.body = new RequestBody(limits.retryBuffer, limits.headSize);
    this.res = new HttpResponse(limits.responseHeadSize);
    this.att = new Attempt(this, owner, limits.responseHeadSize);
    this.pooled = { pool, user: this, counted: new Set() };
  }

  get client(): net.Socket { return this.owner.client; }
  get clientOpen(): boolean { return this.owner.clientOpen; }
  /** The version of the last upstream, for the close report. */
  get version(): VersionState | null { return this.att.version; }
  /** Part of an answer other than its interim heads went to the client: an answer of ours can no longer take its place. */
  get partly(): boolean { return this.res.sent !== this.res.interim; }

  // ---------------------------------------------------------------- client side

  /** A request head came (the connection checked what it refuses): frame, route and send it. */
  start(head: RequestHead, buf: Buffer, end: number): void {
    this.head = head;
    this.ambiguous = isAmbiguous(head, buf, end);
    this.websocket = head.upgrade && isWebSocket(head);
    this.closeAfter = head.close;
    this.retryable = isIdempotent(head.method);
    this.res.next();
    const out = forwardWith(end === buf.length ? buf : buf.subarray(0, end), head, this.websocket, this.ctx.opts.http, this.remoteOf);
    this.body.start(out, head.chunked, head.contentLength, this.retryable);
    this.phase = 'routing';
    // Body bytes that came with the head are framed before anything is sent:
    // a malformed chunk line here is refused with nothing forwarded.
    if (end < buf.length) {
      const body = buf.subarray(end);
      const rest = this.body.done ? body : this.bodyBytes(body);
      if (this.phase !== 'routing') return;
      if (rest !== null) this.owner.queue(rest);
    }
    const now = Date.now(); // one reading for routing, the retry budget and the pool's check: a read is a call
    const plan = planFor(this.ctx, head, now);
    this.plan = plan;
    if (plan.targets.length === 0) {
      this.owner.fail(new NoUpstreamError('no version is configured'));
      return;
    }
    const ex = this.ex = new Exchange(this.ctx, this.owner.id, plan, head.method, this.pooled, now);
    ex.replica = replicaOf(head, out);
    if (plan.fanOut > 1 && !this.websocket) {
      this.phase = 'concurrent';
      this.concurrent = new Concurrent(new PooledLegs(this, ex), ex);
      return;
    }
    // The usual case first: the chosen version has one server, it is up and
    // has an idle connection. No failover loop is built unless it fails.
    const first = plan.targets[0]!;
    const socket = this.websocket ? undefined : this.pool.takeOnly(first.servers, this, now);
    if (socket !== undefined) {
      this.attach(first, first.servers[0]!, socket, true, now);
      this.writePending();
      return;
    }
    ex.dial(this.dialedCb);
  }

  /** remoteAddress asks the kernel each time: once per connection, when a forwarding field wants it. */
  private readonly remoteOf = (): string | null => (this.remote ??= this.owner.client.remoteAddress ?? null);

  clientData(chunk: Buffer): void {
    const rest = this.body.done ? chunk : this.bodyBytes(chunk);
    if (rest !== null) this.owner.queue(rest);
  }

  /**
   * Request body bytes: frames them, sends (or holds) the part that belongs
   * to the request and returns what follows it (the next request), or null.
   */
  private bodyBytes(chunk: Buffer): Buffer | null {
    let piece: Buffer;
    let rest: Buffer | null;
    try {
      [piece, rest] = this.body.split(chunk);
    } catch (err) {
      // The request body broke its own framing (invalid chunk): nothing of it goes on.
      this.owner.fail(new BadRequestError((err as Error).message));
      return null;
    }
    if (this.body.done && this.body.trailers) this.ambiguous = true;
    // Not connected yet, the body is held: at most what a retry could replay, then the client waits.
    if (piece.length > 0 && this.body.send(piece, this.phase === 'exchange' ? this.att.socket : null, this.phase === 'concurrent' ? this.concurrent : null)) this.owner.client.pause();
    return rest;
  }

  clientEnd(): void {
    // A request cut short can never complete; a complete one still gets its answer.
    if (!this.body.done) this.owner.abort('client closed mid-request');
    else this.closeAfter = true;
  }

  /** The client's socket closed. */
  clientGone(): void {
    this.end(false);
  }

  clientDrained(): void {
    if (this.phase === 'exchange') this.att.socket?.resume();
  }

  /** The connection ends: nothing more of this request is done. */
  stop(): void {
    this.end(true);
  }

  /** Ends the exchange, CONCURRENT's legs and the upstream; `clear`: the request's bytes go too. */
  private end(clear: boolean): void {
    this.phase = 'idle';
    this.ex?.end();
    if (clear) this.ex = null;
    this.concurrent?.abort();
    this.concurrent = null;
    if (clear) this.body.clear();
    const up = this.att.detach();
    if (up !== null) this.pool.discard(up);
  }

  // -------------------------------------------------------------- upstream side

  /** A dialed connection: the request goes to it, and the client is read again. */
  protected connected(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean): void {
    this.attach(v, s, socket, reused);
    this.writePending();
  }

  /** Makes `socket` the upstream of the request. Also used when CONCURRENT hands over its winner. */
  private attach(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean, now?: number): void {
    this.res.body.fresh();
    this.phase = 'exchange';
    this.att.start(this.ex!, v, s, socket, reused, now);
    // A deadline long against the sweep's period is swept (at most a few
    // per cent late); a short one gets a timer of its own.
    this.att.arm(this.ex!.firstByteDeadline(v), this.ctx.sweepEvery * 16, this.ex!.sentAt);
  }

  private writePending(): void {
    this.body.flush(this.att.socket!);
    const o = this.owner;
    if (o.clientOpen && !o.client.readableFlowing && !o.clientEnded) o.client.resume();
  }

  /** CONCURRENT picked `socket` (lent to us already); `buffered` is what it answered so far. */
  adopt(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean, buffered: Buffer | null): void {
    this.concurrent = null;
    this.pool.lend(socket, this);
    this.body.heldWereSent(this.retryable);
    this.attach(v, s, socket, reused);
    this.ex!.fallBack(this.plan!.targets.filter((x) => x !== v));
    if (buffered !== null && buffered.length > 0) this.upstreamData(socket, buffered);
    if (this.owner.clientOpen && !this.owner.clientEnded) this.owner.client.resume();
  }

  upstreamData(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.att.socket || this.phase !== 'exchange') return;
    this.ex?.answerBytes(chunk);
    if (this.att.inHead) this.att.data(chunk);
    else this.responseBody(chunk);
  }

  /** Backend URLs in the answer's head to point at the client's Host, when it has any. */
  private urlsFor(info: ResponseHead, v: VersionState): UrlRewrite | null {
    return info.urls ? urlRewrite(this.ctx.opts.rewrite.location, v.spec.servers, this.head?.host) : null;
  }

  /** The final response head (or a 101) came. */
  answerHead(info: ResponseHead): void {
    const att = this.att;
    if (info.status === 101) {
      this.switchProtocols(info.end);
      return;
    }
    if (!att.keep(info.status)) return;
    this.owner.answered(info.status);
    const res = this.res;
    const rb = res.body;
    const head = this.head!;
    const now = this.ex!.headAt;
    rb.begin(info, head.method);
    // The client learns where a close-delimited body ends only by our close;
    // a request still being sent cannot be followed by another on this connection.
    // A refused upgrade leaves the connection speaking HTTP/1.1 (RFC 9110 §7.8): no close for that.
    if (rb.toEof || !this.body.done || this.owner.clientEnded || this.ambiguous || this.ctx.draining) this.closeAfter = true;
    const connection = this.closeAfter ? 'close' : head.versionMinor === 0 ? 'keep-alive' : null;
    const sent = res.writeHead(this.owner.client, att.reader, info, routingCookies(this.ctx, this.plan!, att.version!, now), connection, this.urlsFor(info, att.version!));
    if (sent === -1) {
      // Mid-body: the client must see a cut response, not a clean end.
      this.owner.abort(res.broken);
      return;
    }
    this.owner.wrote(sent);
    if (rb.complete) this.responseDone(now);
    else if (res.full) att.socket!.pause();
  }

  /** Interim heads go on to HTTP/1.1 clients only (RFC 9110 §15.2), never with cookies. */
  interim(buf: Buffer): void {
    if (this.head!.versionMinor === 1 && this.owner.clientOpen) this.owner.wrote(this.res.writeInterim(this.owner.client, this.att.reader, buf));
  }

  private responseBody(chunk: Buffer): void {
    const res = this.res;
    const n = res.writeBody(this.owner.client, chunk);
    if (n === -1) {
      this.owner.abort(res.broken);
      return;
    }
    this.owner.wrote(n);
    if (res.body.done) this.responseDone();
    else if (res.full) this.att.socket!.pause();
  }

  /** The response was written to the end: the upstream goes back to the pool (or is closed), and the connection goes on. */
  private responseDone(now = Date.now()): void {
    const socket = this.att.detach()!;
    this.ex = null;
    this.putBack(socket, this.res.body, now);
    // Nothing more can come from a client that asked to close (or sent its
    // FIN) once its request was read whole and nothing follows it.
    const quiet = (this.head!.close || this.owner.clientEnded) && this.body.done && !this.ambiguous;
    this.head = null;
    this.plan = null;
    this.body.clear();
    // What follows is a new response: an error for the next request may be written whole.
    this.res.next();
    this.phase = 'idle';
    this.owner.done(this.closeAfter, quiet);
  }

  /** A 101: to a WebSocket upgrade, the two sockets are piped from here on; to anything else, a bad answer. */
  private switchProtocols(end: number): void {
    const att = this.att;
    if (!this.websocket) {
      att.failed(new BadResponseError(att.server!.key, '101 to a request that asked for no upgrade'), 'bad-response');
      return;
    }
    const buf = att.reader.bytes;
    const rest = end < buf.length ? buf.subarray(end) : null;
    const out = this.res.switchedHead(att.reader);
    const v = att.version!;
    this.owner.answered(101);
    this.ex!.head(v, att.server!, 101, { answered: true, replayable: false, clientOpen: this.owner.clientOpen, partial: true });
    this.phase = 'idle';
    this.ex = null;
    this.body.clear();
    this.owner.upgraded(att.detach()!, v, out, rest);
  }

  upstreamEnd(socket: net.Socket): void {
    if (socket !== this.att.socket || this.phase !== 'exchange') return;
    this.ex?.answerEnd();
    if (this.att.inHead) this.att.closed();
    else if (this.res.body.toEof) this.responseDone();
    else this.owner.abort('upstream closed mid-response');
  }

  upstreamDrain(socket: net.Socket): void {
    if (socket === this.att.socket && this.owner.clientOpen) this.owner.client.resume();
  }

  // ------------------------------------------------------------ failover's side (see PooledRequest)

  /** Any byte of an answer written to the client counts, an interim head's too (`partly` leaves those out). */
  protected get answered(): boolean {
    return this.res.sent !== 0;
  }

  fail(err: UpshiftError): void {
    this.owner.fail(err);
  }

  protected cut(reason: string): void {
    this.owner.abort(reason);
  }

  protected noteError(code: string): void {
    this.owner.noteError(code);
  }

  /** A swept first-byte deadline passed. */
  due(now: number): boolean {
    return this.att.due(now);
  }
}

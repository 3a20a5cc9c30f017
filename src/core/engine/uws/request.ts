import { STATUS_CODES } from 'node:http';
import type net from 'node:net';
import type { Connection } from '../../connection/connection.js';
import { Attempt } from '../../connection/attempt.js';
import { replicaOf } from '../../connection/compare-legs.js';
import { Concurrent } from '../../connection/concurrent.js';
import { PooledLegs } from '../../connection/concurrent-legs.js';
import { Exchange, planFor, type DialCallback } from '../../connection/exchange.js';
import { PooledRequest } from '../../connection/pooled-request.js';
import { reportClosed, routingCookies } from '../../connection/report.js';
import { ResponseBody } from '../../connection/response-body.js';
import type { ProxyContext } from '../../context.js';
import { BadRequestError, BadResponseError, NoUpstreamError, toHttpStatus, type UpshiftError } from '../../errors.js';
import { urlRewrite } from '../../http/location.js';
import type { RequestHead } from '../../http/request-head.js';
import { clientHead, headLines, type ResponseHead } from '../../http/response-head.js';
import type { Plan } from '../../routing/strategies/index.js';
import type { VersionState } from '../../routing/version.js';
import { isIdempotent } from '../../upstream/failover.js';
import type { UpstreamPool } from '../../upstream/pool.js';
import type { ServerState } from '../../upstream/server.js';
import { Body, EMPTY, UwsAnswer, lineOffsets, saysCloseOnly } from './answer.js';
import type { UwsResponse } from './load.js';
import { UwsRequestBody } from './request-body.js';
import type { Slot, Slots } from '../../connection/slot.js';
import type { Upgrader } from './websocket.js';

type Phase = 'routing' | 'concurrent' | 'exchange' | 'done';

/**
 * The uws engine: one request, from the head uWebSockets.js parsed to the
 * end of its answer, over the same pieces as http mode's `HttpRequest`:
 * routing by its own cookies (`planFor`), the `Exchange` (dial loop,
 * accounting, failover, judgement's record), the `Attempt` (first-byte
 * deadline, the response head read and checked by `parseResponseHead`),
 * pooled server connections, `RequestBody` and `ResponseBody` framing, and
 * the routing cookies in the client head (`clientHead`).
 *
 *   routing ──▶ exchange ──▶ done (answered to the end, or cut)
 *      │  ▲           │
 *      │  └── retry ──┘ (failover.ts said so: nothing of the answer left yet)
 *      └──▶ concurrent ──▶ (the winner adopted) exchange
 *
 * It is in the proxy's connection registry while it runs (uWS gives no
 * per-connection hook for HTTP), through its `slot`: the sweep finds its
 * first-byte deadline, `close()` waits for it, a removed version ends it.
 *
 * Invariants:
 * - uWS's response is touched only until `answer.ended` or `answer.aborted`.
 * - The server's socket goes back to the pool only when its answer was read
 *   to the end by its framing, the request was sent whole, and nothing
 *   followed (`PooledRequest.putBack`).
 * - Backpressure: uWS holding back an answer piece pauses the server's
 *   socket; an upstream write that returns false pauses uWS's reading of the
 *   request body (`UwsRequestBody.pause`), its 'drain' resumes it.
 *
 * Where the pieces are: failover's side, the dial loop's answer and the
 * pool's rule are `PooledRequest`'s (one copy with http mode); the request
 * body as uWS reads it (framing, pause and resume) is `UwsRequestBody`'s; the
 * answer as uWS writes it is `UwsAnswer`'s. Left here is what ties them
 * together: the phases, routing, the answer's head and body, the WebSocket
 * hand-over and the registry.
 */
export class UwsHttpRequest extends PooledRequest<'done'> implements Connection {
  phase: Phase = 'done';
  private plan: Plan | null = null;
  protected readonly att: Attempt;
  readonly body: UwsRequestBody;
  private readonly rb: ResponseBody;
  private readonly answer: UwsAnswer;
  id = 0;
  private res: UwsResponse = null!;
  private head: RequestHead = null!;
  /** A WebSocket upgrade: goes to one server at a time (no pooled shortcut, no CONCURRENT legs), a 101 to `upgrader`. */
  private upgrader: Upgrader | null = null;
  private retryable = false;
  private closeAfter = false;
  private started = 0;
  bytesIn = 0;
  bytesOut = 0;
  status: number | undefined;
  error: string | undefined;
  /** The request's stand-in in the proxy's registries (see `Slot`): this object's while it is reused, given back when it is dropped. */
  readonly slot: Slot;
  /** Counts the requests this object carried: a callback given to uWS for one (`onAborted`, `onData`) checks it is still that one's. */
  generation = 0;
  /** Only `onAborted` (guarded) can call it once it finished: it never dialed, sent no CONCURRENT legs, relayed no
   * WebSocket, read no body, never waited for `onWritable`. Only such a request goes back to `free`, for the next one. */
  private recyclable = true;

  constructor(
    private readonly ctx: ProxyContext,
    readonly pool: UpstreamPool,
    slots: Slots,
    private readonly free: UwsHttpRequest[],
  ) {
    super();
    const limits = ctx.opts.limits;
    this.slot = slots.take(this);
    this.slot.tenant = null;
    this.att = new Attempt(this, this.slot, limits.responseHeadSize);
    this.answer = new UwsAnswer();
    this.body = new UwsRequestBody(this.answer, limits.retryBuffer, limits.headSize);
    this.rb = new ResponseBody(limits.responseHeadSize);
  }

  /** A request uWS parsed: this object carries it until `finish` (then, if `recyclable`, the next one). */
  begin(id: number, res: UwsResponse, head: RequestHead, out: Buffer, upgrader: Upgrader | null): void {
    this.generation++;
    this.phase = 'routing';
    this.id = id;
    this.res = res;
    this.head = head;
    this.upgrader = upgrader;
    this.plan = null;
    this.ex = null;
    this.concurrent = null;
    this.ambiguous = false;
    this.status = undefined;
    this.error = undefined;
    this.bytesOut = 0;
    this.started = Date.now();
    this.recyclable = upgrader === null && !head.chunked && head.contentLength <= 0;
    this.slot.tenant = this;
    this.att.version = null;
    this.att.server = null;
    this.answer.begin(res, head.close && saysCloseOnly(head));
    this.retryable = isIdempotent(head.method);
    this.closeAfter = head.close;
    this.body.begin(res, out, head, this.retryable);
    this.bytesIn = out.length;
  }

  /** The request's framing is doubtful: the client connection closes after the answer, the server's is not pooled. */
  doubtful(): void {
    this.ambiguous = true;
    this.closeAfter = true;
  }

  /** Routes the request and sends it to the first choice (a pooled connection when there is one). */
  start(out: Buffer): void {
    const now = this.started;
    const plan = this.plan = planFor(this.ctx, this.head, now);
    if (plan.targets.length === 0) {
      this.fail(new NoUpstreamError('no version is configured'));
      return;
    }
    const ex = this.ex = new Exchange(this.ctx, this.id, plan, this.head.method, { pool: this.pool, user: this, oneRequest: true }, now);
    ex.replica = replicaOf(this.head, out);
    if (plan.fanOut > 1 && this.upgrader === null) {
      this.phase = 'concurrent';
      this.recyclable = false;
      this.concurrent = new Concurrent(new PooledLegs(this, ex), ex);
      return;
    }
    const first = plan.targets[0]!;
    if (first.servers.length === 1 && this.upgrader === null) {
      const server = first.servers[0]!;
      const socket = server.available(now) ? this.pool.take(server, this) : undefined;
      if (socket !== undefined) {
        this.connected(first, server, socket, true);
        return;
      }
    }
    ex.dial(this.dialedCb);
  }

  // ---------------------------------------------------------------- client side

  /** Request body bytes as uWS decoded them; `last`: the body ended. */
  clientData(data: Buffer, last: boolean): void {
    if (this.phase === 'done') return;
    this.bytesIn += data.length;
    let framed: Buffer | null;
    try {
      framed = this.body.frame(data, last);
    } catch (err) {
      this.fail(new BadRequestError((err as Error).message));
      return;
    }
    // To the server, to CONCURRENT's legs, or held until connected (http mode's rule, `RequestBody.send`).
    if (framed !== null && this.body.send(framed, this.phase === 'exchange' ? this.att.socket : null, this.phase === 'concurrent' ? this.concurrent : null)) this.body.pause();
  }

  /** uWS says the client went away. */
  clientAborted(): void {
    this.answer.abort();
    this.end('client closed');
  }

  /** What CONCURRENT's legs hold back while they cannot take more of the request: uWS's reading of its body. */
  get client(): UwsRequestBody {
    return this.body;
  }

  get clientOpen(): boolean {
    return !this.answer.aborted;
  }

  // -------------------------------------------------------------- upstream side

  /** `socket` is the request's upstream now: what is held of the request goes to it, and uWS reads the body again. */
  protected connected(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean): void {
    this.attach(v, s, socket, reused);
    this.body.flush(socket);
    this.body.resume();
  }

  /** Makes `socket` the upstream of the request. Also used when CONCURRENT hands over its winner. */
  private attach(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean): void {
    this.rb.fresh();
    this.phase = 'exchange';
    this.att.start(this.ex!, v, s, socket, reused);
    this.att.arm(this.ex!.firstByteDeadline(v), this.ctx.sweepEvery * 16);
  }

  // A dial's callback may come after the request ended (it checks only the phase): such a request is not reused.
  protected override get dialedCb(): DialCallback {
    this.recyclable = false;
    return super.dialedCb;
  }

  /** CONCURRENT picked `socket` (lent to us already); `buffered` is what it answered so far. */
  adopt(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean, buffered: Buffer | null): void {
    this.concurrent = null;
    this.pool.lend(socket, this);
    this.body.heldWereSent(this.retryable);
    this.attach(v, s, socket, reused);
    this.ex!.fallBack(this.plan!.targets.filter((x) => x !== v));
    if (buffered !== null && buffered.length > 0) this.upstreamData(socket, buffered);
    this.body.resume();
  }

  upstreamData(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.att.socket || this.phase !== 'exchange') return;
    this.ex?.answerBytes(chunk);
    if (this.att.inHead) {
      this.att.data(chunk);
    } else {
      this.rest = chunk;
      this.cork(this.writeBodyCb);
    }
  }

  /** uWS wants writes from outside its own callbacks corked (one syscall per batch). */
  private cork(fn: () => void): void {
    if (this.answer.aborted) return;
    this.res.cork(fn);
  }

  answerHead(info: ResponseHead): void {
    if (info.status === 101) {
      if (this.upgrader !== null) this.switchProtocols(info);
      else this.att.failed(new BadResponseError(this.att.server!.key, '101 to a request that asked for no upgrade'), 'bad-response');
      return;
    }
    if (!this.att.keep(info.status)) return;
    this.status = info.status;
    const rb = this.rb;
    rb.begin(info, this.head.method);
    if (rb.toEof || !this.body.done || this.ctx.draining) this.closeAfter = true;
    const v = this.att.version!;
    const reader = this.att.reader;
    const buf = reader.bytes;
    const urls = info.urls ? urlRewrite(this.ctx.opts.rewrite.location, v.spec.servers, this.head.host) : null;
    const cookies = routingCookies(this.ctx, this.plan!, v, this.ex!.headAt);
    // A plain head (the usual case: no hop-by-hop field but a keep-alive, no URL to rewrite, no
    // backend cookie to drop) goes from the server's bytes; any other is rebuilt by `clientHead` first.
    let lines = buf;
    let offs = reader.offs;
    let added = cookies?.lines ?? null;
    if (!info.plain || urls !== null || (cookies !== null && info.setCookie)) {
      lines = clientHead(buf, info.end, 0, info, offs, [], cookies, null, urls).out;
      offs = lineOffsets(lines, []);
      added = null;
    }
    const none = this.head.method === 'HEAD' || info.status === 204 || info.status === 304 || rb.complete;
    const kind = none ? Body.None : info.chunked ? Body.Chunked : rb.toEof ? Body.Stream : Body.Length;
    const length = none ? (this.head.method === 'HEAD' ? info.contentLength : -1) : info.contentLength;
    reader.reset();
    this.answer.prepare(lines, offs, added, kind, length, this.head.method === 'HEAD' && info.chunked);
    this.rest = buf;
    this.restAt = info.end;
    this.cork(this.writeHeadCb);
  }

  /** The read the head came in and where its body starts, for `writeHeadCb`; a later piece of body, for `writeBodyCb` (set just before their cork: no closure per answer). */
  private rest: Buffer = EMPTY;
  private restAt = 0;
  private readonly writeBodyCb = (): void => {
    const chunk = this.rest;
    this.rest = EMPTY;
    this.responseBody(chunk, 0);
  };
  /** Inside uWS's cork: the answer's head, then what came of its body with it. */
  private readonly writeHeadCb = (): void => {
    const buf = this.rest;
    this.rest = EMPTY;
    this.bytesOut += this.answer.prepared(this.closeAfter);
    if (this.rb.complete) this.responseDone();
    else if (this.restAt < buf.length) this.responseBody(buf, this.restAt);
  };

  /** A 101 to a WebSocket upgrade: checked, counted as the answer, and the upstream handed to the relay. */
  private switchProtocols(info: ResponseHead): void {
    const att = this.att;
    const reader = att.reader;
    const lines = headLines(reader.bytes, reader.offs, []);
    const bad = this.upgrader!.refuse(lines);
    if (bad !== null) {
      att.failed(new BadResponseError(att.server!.key, bad), 'bad-response');
      return;
    }
    const buf = reader.bytes;
    const rest = info.end < buf.length ? Buffer.from(buf.subarray(info.end)) : null;
    const v = att.version!;
    this.status = 101;
    this.ex!.head(v, att.server!, 101, { answered: true, replayable: false, clientOpen: this.clientOpen, partial: true });
    reader.reset();
    const up = att.detach()!;
    this.phase = 'done';
    this.ex = null;
    this.body.clear();
    // The relay is the connection now: this request leaves the registry and gives its slot back.
    this.ctx.connectionClosed(this.slot);
    this.slot.release();
    this.upgrader!.switched(up, v, lines, rest, { bytesIn: this.bytesIn, bytesOut: this.bytesOut + info.end, started: this.started });
  }

  /** Interim heads: uWS writes no 1xx of a server's (it answers `Expect: 100-continue` itself). */
  interim(): void {}

  private responseBody(chunk: Buffer, from: number): void {
    let n: number;
    try {
      n = this.rb.frame(chunk, from);
    } catch (err) {
      this.end(`bad chunked response: ${(err as Error).message}`);
      return;
    }
    if (n > 0) {
      const piece = from === 0 && n === chunk.length ? chunk : chunk.subarray(from, from + n);
      this.bytesOut += n;
      if (!this.answer.body(piece, this.drainedCb)) this.att.socket?.pause();
    }
    if (this.rb.done) this.responseDone();
  }

  private readonly drainedCb = (): void => { this.att.socket?.resume(); };

  private responseDone(): void {
    const socket = this.att.detach()!;
    this.putBack(socket, this.rb);
    this.answer.finish(this.closeAfter);
    this.finish();
  }

  upstreamEnd(socket: net.Socket): void {
    if (socket !== this.att.socket || this.phase !== 'exchange') return;
    this.ex?.answerEnd();
    if (this.att.inHead) this.att.closed();
    else if (this.rb.toEof) this.cork(() => this.responseDone());
    else this.end('upstream closed mid-response');
  }

  upstreamDrain(socket: net.Socket): void {
    if (socket === this.att.socket) this.body.resume();
  }

  // ------------------------------------------------------------ failover's side (see PooledRequest)

  /** uWS writes no interim head of a server's (see `interim`): the answer's head is its first byte. */
  protected get answered(): boolean {
    return this.answer.headSent;
  }

  protected cut(reason: string): void {
    this.end(reason);
  }

  protected noteError(code: string): void {
    this.error = code;
  }

  /** Answers the error's status when nothing of an answer left yet; else cuts the answer. */
  fail(err: UpshiftError): void {
    if (this.phase === 'done') return;
    this.error = err.code;
    if (this.answer.headSent) {
      this.end(err.code);
      return;
    }
    const status = this.status = toHttpStatus(err);
    const reason = STATUS_CODES[status] ?? 'Error';
    this.cork(() => this.answer.error(status, reason, `${status} ${reason}\n`));
    this.end(undefined);
  }

  // -------------------------------------------------------------- the registry

  sweep(now: number): void {
    if (this.phase === 'exchange' && this.att.due(now)) this.firstByteTimeout();
  }

  get idleBeforeHead(): boolean {
    return false;
  }

  drain(): void {}

  /** Ends the request now (its version was removed, or the drain deadline passed). */
  destroy(): void {
    this.end('closed by proxy');
  }

  /** Ends everything at once: the answer is cut unless it ended. */
  private end(reason: string | undefined): void {
    if (this.phase === 'done') return;
    if (reason !== undefined && this.error === undefined) this.error = reason;
    // An answer cut or refused is rare: uWS may still call back about it (an abort after `close`), so this object is not reused.
    this.recyclable = false;
    this.concurrent?.abort();
    this.concurrent = null;
    this.ex?.end();
    const up = this.att.detach();
    if (up !== null) this.pool.discard(up);
    if (!this.answer.ended) this.cork(() => this.answer.cut());
    this.finish();
  }

  private finish(): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.ex?.end();
    this.ex = null;
    this.body.clear();
    reportClosed(this.ctx, this.slot, this.att.version, this.started);
    // Out of every registry now (its attempt left its version's when it detached).
    if (this.recyclable && !this.answer.waited) {
      this.slot.tenant = null;
      this.res = null!;
      this.head = null!;
      this.plan = null;
      this.free.push(this);
    } else {
      this.slot.release();
    }
  }
}

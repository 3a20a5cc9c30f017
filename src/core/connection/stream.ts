import type net from 'node:net';
import type { ProxyContext } from '../context.js';
import { BadRequestError, FirstByteTimeoutError, HeadTimeoutError, NoUpstreamError, toHttpStatus, type UpshiftError } from '../errors.js';
import type { RequestHead } from '../http/request-head.js';
import type { ResponseHead } from '../http/response-head.js';
import { errorResponse } from '../http/responses.js';
import type { Plan } from '../routing/strategies/index.js';
import type { VersionState } from '../routing/version.js';
import type { Candidate } from '../upstream/dial.js';
import type { ServerState } from '../upstream/server.js';
import { Attempt, type AttemptOwner } from './attempt.js';
import { replicaOf } from './compare-legs.js';
import { Concurrent } from './concurrent.js';
import { StreamLegs, type StreamLegOwner } from './concurrent-legs.js';
import { listenToClient, type ClientHandler } from './client-socket.js';
import type { Connection } from './connection.js';
import { Deadlines, answerLast } from './endings.js';
import { StreamHead, answerHead, wholeStart } from './stream-head.js';
import { Exchange, type ClientSide } from './exchange.js';
import { KeptRequest } from './kept-request.js';
import { reportClosed } from './report.js';
import type { Slot, Slots } from './slot.js';
import { Tunnel } from './tunnel.js';
import { listenToUpstream } from './upstream-socket.js';

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
 * - `kept` holds the client bytes not yet known to be answered (see there).
 * - Backpressure: a write that returns false pauses the other side; 'drain'
 *   resumes it. Nothing is buffered in user space while piping.
 * - Each socket is destroyed by Node or by us exactly once; `finish()` runs
 *   once, after the client socket and the current upstream have both closed.
 * - Head, linger and idle deadlines are found by the proxy's periodic
 *   `sweep`, not by timers or socket timeouts (no timer work per connection).
 * - Socket handlers are module functions (`client-socket.ts`,
 *   `upstream-socket.ts`): no closures per connection on the hot path.
 */
export type StreamState = 'head' | 'dialing' | 'concurrent' | 'response-head' | 'piping' | 'closing' | 'closed';

export class StreamConnection implements Connection, ClientHandler, StreamLegOwner, AttemptOwner {
  state: StreamState = 'head';
  readonly client: net.Socket;
  /** The upstream (and the reading of its answer's head); created on the first dial: an idle connection costs none. */
  private att: Attempt | null = null;
  /** The current upstream socket has not closed yet. */
  private upstreamOpen = false;
  clientOpen = true;
  head: RequestHead | null = null;
  plan: Plan | null = null;
  /** Client bytes kept for (re)sending (CONCURRENT's legs get them too). */
  readonly kept: KeptRequest;
  clientEnded = false;
  /** Plain TCP (non-HTTP bytes): no response head is parsed. */
  private tcp = false;
  /** Made when the first chunk does not hold a whole head (`wholeStart`): an idle connection, or a head in one read, costs none. */
  private heads: StreamHead | null = null;
  /** Of `bytesOut`, the interim heads': a final answer (ours, a 502) may still follow them. */
  private interimOut = 0;
  /** The first request's way through its plan (accounting, failover, judgement's record). */
  ex: Exchange | null = null;
  private exchange: Concurrent | null = null;
  /** While piping: the pipe between the client and the upstream. */
  private tunnel: Tunnel | null = null;
  /** The head, linger and idle deadlines, for the sweep. */
  private readonly deadlines: Deadlines;
  bytesIn = 0;
  bytesOut = 0;
  status: number | undefined;
  error: string | undefined;
  private readonly started: number;
  /** What the proxy's `conns` and a version's `open` hold for this connection (see `Slot`); released once it closed. */
  readonly slot: Slot;

  constructor(
    readonly id: number,
    readonly ctx: ProxyContext,
    client: net.Socket,
    slots: Slots,
  ) {
    this.slot = slots.take(this);
    this.client = client;
    this.kept = new KeptRequest(ctx.opts.limits.retryBuffer);
    listenToClient(client, this);
    this.deadlines = new Deadlines(this.started = Date.now());
  }

  // ---------------------------------------------------------------- client side

  clientData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    switch (this.state) {
      case 'piping':
        this.tunnel!.fromClient(chunk);
        return;
      case 'response-head':
        this.kept.keep(chunk, false);
        if (!this.att!.socket!.write(chunk)) this.client.pause();
        return;
      case 'head':
        this.headBytes(chunk);
        return;
      case 'dialing':
        this.kept.keep(chunk, true);
        return;
      case 'concurrent':
        this.exchange!.body(chunk);
        return;
      default:
        // closing / closed: the answer is written; the rest is discarded.
    }
  }

  private headBytes(chunk: Buffer): void {
    const heads = this.heads;
    const r = heads !== null ? heads.feed(chunk) : wholeStart(this.ctx, chunk) ?? (this.heads = new StreamHead(this.ctx)).feed(chunk);
    if (r === null) return;
    if (!('plan' in r)) {
      this.fail(r);
      return;
    }
    this.kept.set(r.bytes);
    this.head = r.head;
    this.tcp = r.head === null;
    this.heads = null;
    this.client.pause();
    this.routeAndDial(r.plan, r.head, r.headBytes);
  }

  private routeAndDial(plan: Plan, head: RequestHead | null, headBytes: Buffer | null): void {
    this.plan = plan;
    if (plan.targets.length === 0) {
      if (this.tcp) this.abort('no version is configured');
      else this.fail(new NoUpstreamError('no version is configured'));
      return;
    }
    // Not HTTP: no method, never retried (nothing tells where its request ends).
    const ex = this.ex = new Exchange(this.ctx, this.id, plan, head?.method ?? '', null);
    if (head !== null) ex.replica = replicaOf(head, headBytes!);
    this.kept.retryable = ex.idempotent;
    if (plan.fanOut > 1) {
      this.state = 'concurrent';
      this.exchange = new Concurrent(new StreamLegs(this, ex), ex);
      return;
    }
    this.state = 'dialing';
    ex.dial(this.dialedCb);
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
        this.att!.socket!.end();
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
    if (this.state === 'piping' || this.state === 'response-head') this.att?.socket?.resume();
  }

  clientClose(): void {
    this.clientOpen = false;
    if (this.state !== 'closed' && this.state !== 'closing') this.state = 'closing';
    this.ex?.end();
    this.exchange?.abort();
    const up = this.att?.socket ?? null;
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
      else this.fail(this.ex!.answerFor(err as UpshiftError));
      return;
    }
    this.attach(c.version, c.server, socket);
    this.kept.send(socket, this.kept.retryable && !this.tcp);
    if (this.clientEnded) socket.end();
    if (this.tcp) {
      this.state = 'piping';
      this.tunnel = new Tunnel(this.client, socket);
    } else {
      this.state = 'response-head';
      // As in http mode: a deadline long against the sweep's period is swept, a short one gets a timer.
      this.att!.arm(this.ex!.firstByteDeadline(c.version), this.ctx.sweepEvery * 16);
    }
    this.client.resume();
  }

  /** Makes `socket` this connection's upstream (also CONCURRENT's winner). */
  attach(v: VersionState, s: ServerState, socket: net.Socket): void {
    listenToUpstream(socket, this, s);
    this.upstreamOpen = true;
    (this.att ??= new Attempt(this, this.slot, this.ctx.opts.limits.responseHeadSize)).start(this.ex!, v, s, socket, false);
  }

  /** Takes over CONCURRENT's winner: `buffered` (its answer so far) is read again here (the one head check applies). */
  adopt(v: VersionState, s: ServerState, socket: net.Socket, buffered: Buffer): void {
    this.attach(v, s, socket);
    // Failures after this point fall back through the rest of the plan.
    this.ex!.fallBack(this.plan!.targets.filter((x) => x !== v));
    this.exchange = null;
    this.state = 'response-head';
    this.upstreamData(socket, buffered);
    this.client.resume();
  }

  /** Falls back from a CONCURRENT exchange in which no version answered well. */
  fallbackFrom(rest: readonly VersionState[], err: UpshiftError): void {
    if (this.exchange === null) return;
    this.exchange = null;
    if (rest.length === 0 || this.kept.chunks === null) {
      this.fail(err);
      return;
    }
    this.ex!.fallBack(rest);
    this.dialAgain();
  }

  upstreamData(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.att!.socket) return;
    this.ex?.answerBytes(chunk);
    if (this.state === 'piping') {
      this.bytesOut += chunk.length;
      this.tunnel!.fromUpstream(chunk);
      return;
    }
    if (this.state === 'response-head') this.att!.data(chunk);
  }

  /** Interim (100 Continue, 103): on to the client now, as it came (cookies go on the final head); no longer sent elsewhere. */
  interim(buf: Buffer, end: number): void {
    this.bytesOut += end;
    this.interimOut += end;
    this.client.write(buf.subarray(0, end));
  }

  /** The first final response head is complete: account for it (or drop it to try elsewhere), set cookies, start piping. */
  answerHead(info: ResponseHead): void {
    const att = this.att!;
    const buf = att.reader.bytes;
    if (!att.keep(info.status)) return;
    att.reader.reset();
    this.kept.drop();
    this.status = info.status;
    const out = answerHead(this.ctx, this.plan!, att.version!, this.head?.host, info, buf, att.reader.offs);
    this.state = 'piping';
    const tunnel = this.tunnel = new Tunnel(this.client, att.socket!);
    this.bytesOut += out.length;
    tunnel.fromUpstream(out);
  }

  upstreamEnd(socket: net.Socket): void {
    if (socket !== this.att!.socket) return;
    this.ex?.answerEnd();
    if (this.state === 'piping') this.tunnel!.upstreamEnded();
    else if (this.state === 'response-head') this.att!.closed();
  }

  upstreamError(socket: net.Socket, err: Error): void {
    if (socket !== this.att!.socket) return;
    if (this.state === 'response-head') {
      this.att!.closed();
      return;
    }
    this.error = (err as NodeJS.ErrnoException).code ?? err.message;
    // Mid-stream: the response is cut; the client must see that, not a clean end.
    this.client.destroy();
  }

  upstreamClose(socket: net.Socket): void {
    if (socket !== this.att!.socket) return;
    this.upstreamOpen = false;
    // Reset, or destroyed by a timeout: the client must not mistake a cut response for a complete one.
    if (this.state === 'piping') this.tunnel!.upstreamClosed(this.clientOpen);
    this.maybeFinish();
  }

  upstreamDrain(socket: net.Socket): void {
    if (socket === this.att!.socket) this.client.resume();
  }

  /** What failover needs to know of the client's side. */
  side(partial: boolean): ClientSide {
    return { answered: this.bytesOut !== 0, replayable: this.kept.replayable, clientOpen: this.clientOpen, partial };
  }

  release(socket: net.Socket): void {
    this.upstreamOpen = false;
    socket.destroy();
  }

  /** Dials the next candidate with the kept request bytes. */
  redial(cause: UpshiftError | null): void {
    if (cause !== null) this.error = cause.code;
    this.dialAgain();
  }

  private dialAgain(): void {
    this.state = 'dialing';
    this.client.pause();
    this.ex!.dial(this.dialedCb);
  }

  firstByteTimeout(): void {
    if (this.state === 'response-head') this.att!.failed(new FirstByteTimeoutError(this.att!.server!.key), 'timeout');
  }

  // ------------------------------------------------------------------ endings

  /** Answers the client with the error's status (nothing was sent yet) and closes. */
  fail(err: UpshiftError): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.error = err.code;
    this.status = toHttpStatus(err);
    this.stop();
    this.kept.drop();
    if (!answerLast(this.client, this.clientOpen, errorResponse(this.status), this.bytesOut !== this.interimOut)) return;
    this.bytesOut += 1;
    this.deadlines.linger(Date.now());
  }

  /** Closes everything at once, without an answer. */
  abort(reason: string | undefined): void {
    if (reason !== undefined && this.error === undefined) this.error = reason;
    if (this.state !== 'closed') this.state = 'closing';
    this.stop();
    if (this.clientOpen) this.client.destroy();
  }

  /** Stops the first-byte deadline, the exchange and its upstream (the connection is closing). */
  private stop(): void {
    this.att?.disarm();
    this.ex?.end();
    this.exchange?.abort();
    this.exchange = null;
    const up = this.att?.socket ?? null;
    if (up !== null && this.upstreamOpen) up.destroy();
  }

  /**
   * Called by the proxy's sweep: the head, first-byte and linger deadlines (no
   * timer per connection), and a piping connection whose bytes did not move for `timeouts.idle`.
   */
  sweep(now: number): void {
    const t = this.ctx.opts.timeouts;
    const d = this.deadlines;
    if (this.state === 'head') {
      if (d.head(now, t.head)) this.headTimeout();
    } else if (this.state === 'closing') {
      if (d.lingered(now, t.linger)) this.lingerTimeout();
    } else if (this.state === 'response-head') {
      if (this.att!.due(now)) this.firstByteTimeout();
    } else if (this.state === 'piping' && d.idle(this.bytesIn + this.bytesOut, now, t.idle)) {
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
    this.kept.drop();
    this.att?.disarm();
    const v = this.att?.version ?? null;
    v?.open.delete(this.slot);
    reportClosed(this.ctx, this.slot, v, this.started);
    this.slot.release();
  }

  /** The proxy is closing; stream mode cannot see where an answer ends: a piping connection ends once quiet (`Tunnel.quiet`). */
  drain(_now: number): void {
    if (this.state === 'piping' && this.tunnel!.quiet(this.bytesIn + this.bytesOut)) this.abort('closed by proxy');
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


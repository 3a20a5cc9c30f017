import type net from 'node:net';
import { chooseLeg } from './choose.js';
import { BadResponseError, FirstByteTimeoutError, NoUpstreamError, UpstreamClosedError, type UpshiftError } from '../errors.js';
import { HeadFinder } from '../http/parser.js';
import { failureOutcome, headAttempt } from '../judge/outcome.js';
import type { Plan } from '../routing/strategies/index.js';
import type { VersionState } from '../routing/version.js';
import { DialSequence, type Candidate, type DialHooks } from '../upstream/dial.js';
import type { ConnectionLimit, PoolUser } from '../upstream/pool.js';
import type { ServerState } from '../upstream/server.js';
import type { HttpConnection } from './http.js';

/**
 * CONCURRENT for one request in http mode: the request goes to the newest N
 * versions at once, each on its own (pooled or new) upstream connection, and
 * every leg is read in parallel until its final response head. The newest
 * leg with a status below 500 wins once every newer leg has failed; the
 * winner's socket and the bytes it sent so far go to the connection, which
 * frames them as any other response. Losers are closed: their answers are
 * never mixed into the client's. Side-effect methods never get here (the
 * strategy gives them a fan-out of 1).
 *
 * Memory: the request bytes stay in the connection's `pending` (legs that
 * connect late need all of them), up to `limits.retryBuffer`; past that, a
 * leg still connecting is dropped. Body bytes are written to every live leg
 * and the client is paused while any of them is full. Each leg buffers at
 * most `limits.concurrentBuffer` response bytes before it is paused.
 */
type Outcome = 'pending' | 'good' | 'bad';

class Leg implements DialHooks {
  socket: net.Socket | null = null;
  server: ServerState | null = null;
  reused = false;
  outcome: Outcome = 'pending';
  status = 0;
  readonly finder: HeadFinder;
  chunks: Buffer[] = [];
  bytes = 0;
  err: UpshiftError | undefined;
  readonly seq: DialSequence;

  constructor(readonly owner: HttpConcurrent, readonly version: VersionState, headLimit: number) {
    this.finder = new HeadFinder('RESPONSE', headLimit, true);
    this.seq = new DialSequence([version], this);
  }

  get connectTimeout(): number {
    return this.owner.conn.connectTimeout;
  }

  get limit(): ConnectionLimit {
    return this.owner.conn.pool;
  }

  reuse(c: Candidate): net.Socket | undefined {
    const s = this.owner.conn.pool.take(c.server, this.owner);
    if (s !== undefined) this.reused = true;
    return s;
  }

  onSuccess(c: Candidate, socket: net.Socket, ms: number): void {
    this.owner.conn.onSuccess(c, socket, ms);
  }

  onFailure(c: Candidate, err: Error): void {
    this.owner.conn.onFailure(c, err);
  }
}

export class HttpConcurrent implements PoolUser {
  private readonly legs: Leg[];
  private readonly rest: readonly VersionState[];
  private readonly timer: NodeJS.Timeout;
  private done = false;

  constructor(readonly conn: HttpConnection, plan: Plan) {
    const n = plan.fanOut;
    this.rest = plan.targets.slice(n);
    const limits = conn.ctx.opts.limits;
    this.legs = plan.targets.slice(0, n).map((v) => new Leg(this, v, limits.responseHeadSize));
    const deadline = plan.targets[0]!.spec.transition.firstByteTimeout ?? conn.ctx.opts.timeouts.firstByte;
    this.timer = setTimeout(onDeadline, deadline, this);
    for (const leg of this.legs) leg.seq.next((err, c, s) => this.connected(leg, err, c, s));
  }

  private connected(leg: Leg, err: Error | null, c?: Candidate, socket?: net.Socket): void {
    const pool = this.conn.pool;
    if (socket !== undefined && !leg.reused) pool.adopt(socket, c!.server, this);
    if (this.done) {
      if (socket !== undefined) pool.discard(socket);
      return;
    }
    if (err !== null || c === undefined || socket === undefined) {
      this.settle(leg, 'bad', err as UpshiftError);
      return;
    }
    if (this.conn.pending.length === 0) {
      // The request outgrew what we keep: this leg cannot get all of it.
      pool.discard(socket);
      this.settle(leg, 'bad', new NoUpstreamError('request too large to send to several versions'));
      return;
    }
    leg.socket = socket;
    leg.server = c.server;
    const pending = this.conn.pending;
    socket.cork();
    for (const piece of pending) socket.write(piece);
    socket.uncork();
    this.trim();
  }

  /** A body piece of the request: to every live leg, and kept for legs still connecting. */
  body(piece: Buffer): void {
    const conn = this.conn;
    if (conn.pending.length !== 0) {
      conn.pending.push(piece);
      conn.pendingBytes += piece.length;
      // Over budget: wait (client paused) until every leg has connected and
      // received what is kept, then stop keeping. Memory stays bounded by
      // the budget plus one read.
      if (conn.pendingBytes > conn.ctx.opts.limits.retryBuffer) this.trim();
    }
    let full = false;
    for (const leg of this.legs) {
      if (leg.socket !== null && leg.outcome !== 'bad' && !leg.socket.write(piece)) full = true;
    }
    if (full) conn.client.pause();
  }

  /** Drops the kept request bytes once no leg needs them; until then holds the client. */
  private trim(): void {
    const conn = this.conn;
    if (conn.pendingBytes <= conn.ctx.opts.limits.retryBuffer || conn.pending.length === 0) return;
    if (this.legs.some((l) => l.socket === null && l.outcome === 'pending')) {
      conn.client.pause();
      return;
    }
    // Too much to replay: from here on a failure is answered, not retried.
    conn.pending = [];
    if (conn.clientOpen) conn.client.resume();
  }

  private legOf(socket: net.Socket): Leg | undefined {
    for (const leg of this.legs) if (leg.socket === socket) return leg;
    return undefined;
  }

  upstreamData(socket: net.Socket, d: Buffer): void {
    const leg = this.legOf(socket);
    if (leg === undefined || this.done) return;
    leg.chunks.push(d);
    leg.bytes += d.length;
    if (leg.outcome !== 'pending') {
      if (leg.bytes > this.conn.ctx.opts.limits.concurrentBuffer) socket.pause();
      return;
    }
    const r = leg.finder.feed(d);
    if (r === null) return;
    if (r instanceof Error) {
      this.settle(leg, 'bad', new BadResponseError(leg.server!.key, r.message));
      return;
    }
    leg.status = r.statusCode;
    if (r.statusCode >= 500) {
      this.settle(leg, 'bad', undefined);
    } else {
      this.settle(leg, 'good', undefined);
    }
  }

  upstreamEnd(socket: net.Socket): void {
    this.legGone(socket);
  }

  upstreamError(socket: net.Socket): void {
    this.legGone(socket);
  }

  upstreamClose(socket: net.Socket): void {
    this.legGone(socket);
  }

  upstreamDrain(): void {
    for (const leg of this.legs) if (leg.socket !== null && leg.socket.writableNeedDrain) return;
    if (this.conn.clientOpen) this.conn.client.resume();
  }

  private legGone(socket: net.Socket): void {
    const leg = this.legOf(socket);
    if (leg === undefined || this.done) return;
    if (leg.outcome === 'pending') this.settle(leg, 'bad', new UpstreamClosedError(leg.server!.key));
    else if (leg.outcome === 'good' || leg.status !== 0) {
      // An answer that was cut before we chose it cannot be used.
      leg.outcome = 'bad';
      leg.status = 0;
      leg.socket = null;
      this.conn.pool.discard(socket);
      this.decide();
    }
  }

  private settle(leg: Leg, outcome: Outcome, err: UpshiftError | undefined): void {
    if (leg.outcome !== 'pending') return;
    leg.outcome = outcome;
    leg.err = err;
    if (outcome === 'bad' && leg.status === 0) {
      // Failed without an answer: count it against the server, and stop the leg.
      if (leg.socket !== null && leg.server !== null) {
        this.conn.pool.discard(leg.socket);
        leg.socket = null;
        if (err !== undefined) this.conn.reportFailure(leg.version, leg.server, err);
        this.conn.attempts.push({ version: leg.version, outcome: failureOutcome(err) });
      }
      leg.version.stats.errors++;
      // A leg that will never connect no longer holds the kept bytes.
      if (!this.done) this.trim();
    } else if (leg.server !== null && leg.status < 500) {
      this.conn.ctx.health.success(leg.version, leg.server);
    }
    this.decide();
  }

  private decide(): void {
    if (this.done) return;
    const winner = chooseLeg(this.legs);
    if (winner === undefined) return;
    if (winner !== null) {
      this.win(winner);
      return;
    }
    this.finish(null);
    this.conn.fallbackFrom(this.rest, this.legs[0]?.err ?? new NoUpstreamError());
  }

  private win(leg: Leg): void {
    this.finish(leg);
    const buf = leg.chunks.length === 1 ? leg.chunks[0]! : Buffer.concat(leg.chunks);
    const socket = leg.socket!;
    // The connection re-reads the winner from its first byte (1xx included).
    this.conn.adopt(leg.version, leg.server!, socket, leg.reused, buf);
    socket.resume();
  }

  /** Closes every leg but `keep`. */
  private finish(keep: Leg | null): void {
    this.done = true;
    clearTimeout(this.timer);
    for (const leg of this.legs) {
      if (leg === keep) continue;
      leg.seq.cancel();
      if (leg.socket !== null) {
        // A loser that answered still counts as a request it served.
        if (leg.status !== 0) {
          leg.version.stats.requests++;
          if (leg.status >= 500) leg.version.stats.errors++;
          this.conn.attempts.push(headAttempt(this.conn.ctx.judge, leg.version, leg.status, 0));
        }
        this.conn.pool.discard(leg.socket);
        leg.socket = null;
      }
    }
  }

  deadline(): void {
    if (this.done) return;
    for (const leg of this.legs) {
      if (leg.outcome === 'pending') this.settle(leg, 'bad', new FirstByteTimeoutError(leg.server?.key ?? leg.version.version));
    }
  }

  abort(): void {
    if (this.done) return;
    this.finish(null);
  }
}

function onDeadline(x: HttpConcurrent): void {
  x.deadline();
}

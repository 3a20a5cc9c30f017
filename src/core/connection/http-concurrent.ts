import type net from 'node:net';
import { chooseLeg } from './choose.js';
import { BadResponseError, FirstByteTimeoutError, NoUpstreamError, UpstreamClosedError, type UpshiftError } from '../errors.js';
import { HeadFinder } from '../http/parser.js';
import type { VersionState } from '../routing/version.js';
import { DialSequence, type Candidate, type DialHooks } from '../upstream/dial.js';
import type { ConnectionLimit, PoolUser } from '../upstream/pool.js';
import type { ServerState } from '../upstream/server.js';
import type { Exchange } from './exchange.js';
import type { ProxyContext } from '../context.js';
import type { UpstreamPool } from '../upstream/pool.js';
import type { RequestBody } from './request-body.js';

/** What an http-mode connection gives its CONCURRENT exchange (an interface: no import circle). */
export interface HttpLegOwner {
  readonly ctx: ProxyContext;
  readonly client: net.Socket;
  readonly clientOpen: boolean;
  readonly pool: UpstreamPool;
  readonly body: RequestBody;
  adopt(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean, buffered: Buffer | null): void;
  fallbackFrom(rest: readonly VersionState[], err: UpshiftError): void;
}

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
 * Memory: the request bytes stay held in the connection's `RequestBody` (legs that
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
    return this.owner.ex.connectTimeout;
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
    this.owner.ex.onSuccess(c, socket, ms);
  }

  onFailure(c: Candidate, err: Error): void {
    this.owner.ex.onFailure(c, err);
  }
}

export class HttpConcurrent implements PoolUser {
  private readonly legs: Leg[];
  private readonly rest: readonly VersionState[];
  private readonly timer: NodeJS.Timeout;
  private done = false;

  constructor(readonly conn: HttpLegOwner, readonly ex: Exchange) {
    const plan = ex.plan;
    const n = plan.fanOut;
    this.rest = plan.targets.slice(n);
    const limits = conn.ctx.opts.limits;
    this.legs = plan.targets.slice(0, n).map((v) => new Leg(this, v, limits.responseHeadSize));
    this.timer = setTimeout(onDeadline, ex.firstByteDeadline(plan.targets[0]!), this);
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
    const held = this.conn.body.heldPieces;
    if (held.length === 0) {
      // The request outgrew what we keep: this leg cannot get all of it.
      pool.discard(socket);
      this.settle(leg, 'bad', new NoUpstreamError('request too large to send to several versions'));
      return;
    }
    leg.socket = socket;
    leg.server = c.server;
    socket.cork();
    for (const piece of held) socket.write(piece);
    socket.uncork();
    this.trim();
  }

  /** A body piece of the request: to every live leg, and kept for legs still connecting. */
  body(piece: Buffer): void {
    const conn = this.conn;
    // Over budget: wait (client paused) until every leg has connected and
    // received what is kept, then stop keeping. Memory stays bounded by
    // the budget plus one read.
    if (conn.body.keepForLegs(piece)) this.trim();
    let full = false;
    for (const leg of this.legs) {
      if (leg.socket !== null && leg.outcome !== 'bad' && !leg.socket.write(piece)) full = true;
    }
    if (full) conn.client.pause();
  }

  /** Drops the kept request bytes once no leg needs them; until then holds the client. */
  private trim(): void {
    const conn = this.conn;
    if (!conn.body.overBudget || conn.body.heldPieces.length === 0) return;
    if (this.legs.some((l) => l.socket === null && l.outcome === 'pending')) {
      conn.client.pause();
      return;
    }
    // Too much to replay: from here on a failure is answered, not retried.
    conn.body.dropHeld();
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
        this.ex.legFailed(leg.version, leg.server, err?.code === 'UPS_ERR_FIRST_BYTE_TIMEOUT' ? 'timeout' : 'reset', err);
      } else {
        leg.version.stats.errors++;
        // A failed connect is in the record already; a connect still under way at the deadline is a timeout.
        if (err?.code === 'UPS_ERR_FIRST_BYTE_TIMEOUT') this.ex.leg(leg.version, null, 'timeout');
      }
      // A leg that will never connect no longer holds the kept bytes.
      if (!this.done) this.trim();
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
        if (leg.status !== 0) this.ex.leg(leg.version, leg.server, this.ex.account(leg.version, leg.server!, leg.status), leg.status);
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

import type net from 'node:net';
import { BadResponseError, FirstByteTimeoutError, NoUpstreamError, UpstreamClosedError, type UpshiftError } from '../errors.js';
import { HeadFinder } from '../http/parser.js';
import type { VersionState } from '../routing/version.js';
import { DialSequence, type Candidate, type DialHooks } from '../upstream/dial.js';
import type { PoolUser } from '../upstream/pool.js';
import type { ServerState } from '../upstream/server.js';
import type { AnswerReader } from '../compare/answer.js';
import { chooseLeg } from './choose.js';
import { begin } from './compare-legs.js';
import type { Exchange } from './exchange.js';

/** The client's side as the legs see it: a net.Socket, or another engine's reading of the request. */
export interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

/**
 * How CONCURRENT legs reach their servers, per connection mode
 * (`concurrent-legs.ts`): stream mode opens fresh connections and listens to
 * them itself; http mode takes pooled ones.
 */
export interface LegTransport {
  /** Paused while the legs cannot take more of the request (all a leg needs of the client's side). */
  readonly client: Pausable;
  readonly clientOpen: boolean;
  /** Dial hooks for one leg's loop: sockets taken from a pool go to `user`, and `reused` is told. */
  hooks(user: PoolUser, reused: () => void): DialHooks;
  /** A leg connected: its socket's events go to `user` from now on. */
  adopt(socket: net.Socket, server: ServerState, reused: boolean, user: PoolUser): void;
  /** The request bytes so far, for a leg that just connected; null once they outgrew what is kept. */
  request(): readonly Buffer[] | null;
  /** The client sent its FIN: legs that connect later get it too. */
  readonly clientEnded: boolean;
  /** A body piece while legs are out, kept for legs still connecting. */
  keep(piece: Buffer): void;
  /** More is kept than the retry buffer allows. */
  readonly overBudget: boolean;
  /** Stop keeping the request bytes (every leg has them). */
  drop(): void;
  /** A leg connected and got the request. */
  connected(): void;
  /** Closes a leg's socket (a loser, or a leg that failed). */
  discard(socket: net.Socket): void;
  /**
   * A loser that has the whole request: reads its answer on (`buffered`, what
   * came so far) to keep its connection, telling `done` when that is over; or
   * null, and the caller discards it.
   */
  drain(socket: net.Socket, buffered: readonly Buffer[], done: (d: Drain) => void, tap?: AnswerReader): Drain | null;
  /** Hands the winner to the connection, with what it answered so far. */
  handOver(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean, buffered: Buffer, ended: boolean, closed: boolean): void;
  /** No leg answered: the connection goes on through `rest`. */
  fallBack(rest: readonly VersionState[], err: UpshiftError): void;
}

type LegOutcome = 'pending' | 'good' | 'bad';

/** A loser's answer being read on (`LegTransport.drain`); `cut` ends it at the deadline. */
export interface Drain {
  readonly over: boolean;
  cut(): void;
}

class Leg {
  socket: net.Socket | null = null;
  server: ServerState | null = null;
  reused = false;
  outcome: LegOutcome = 'pending';
  status = 0;
  chunks: Buffer[] = [];
  bytes = 0;
  ended = false;
  closed = false;
  err: UpshiftError | undefined;
  /** A loser read on to compare its answer with the winner's: what reads it, and how long it may take. */
  reader: AnswerReader | null = null;
  /** Or the transport reads it on (`drain`, with the reader as its tap), keeping the connection. */
  drain: Drain | null = null;
  timer: NodeJS.Timeout | undefined;
  release: (() => void) | null = null;
  readonly seq: DialSequence;
  readonly finder: HeadFinder;

  constructor(readonly version: VersionState, transport: LegTransport, user: PoolUser, headLimit: number) {
    this.finder = new HeadFinder('RESPONSE', headLimit, true);
    this.seq = new DialSequence([version], transport.hooks(user, () => { this.reused = true; }));
  }
}

/**
 * CONCURRENT, one implementation for both modes: the request goes to the
 * newest N versions at once; every leg is read in parallel (a hang in one
 * never holds up the others) until its final response head or the first-byte
 * deadline. `chooseLeg` decides; the winner's socket and what it sent so far
 * go to the connection, which reads it again as any answer; the other legs
 * are closed (their answers are never mixed into the client's), except the
 * previous version's when the two are compared: it is read on, into its
 * `AnswerReader` (a digest, or a JSON body up to a limit), and closed when
 * its answer is complete or `compare.timeout` passes. When no leg
 * answered, the connection goes on through the rest of the plan. Side-effect
 * methods never get here (the strategy gives them a fan-out of 1).
 *
 * Memory: the request bytes are kept (legs that connect late need all of
 * them) up to `limits.retryBuffer`: past that the client waits until every
 * leg has connected, then nothing more is kept. Body bytes go to every live
 * leg and the client is paused while any of them is full. Each leg buffers at
 * most `limits.concurrentBuffer` response bytes before it is paused.
 */
export class Concurrent implements PoolUser {
  private readonly legs: Leg[];
  private readonly rest: readonly VersionState[];
  private readonly timer: NodeJS.Timeout;
  private done = false;
  /** Losers' answers read on after the choice; the deadline still bounds them. */
  private drains: Drain[] | null = null;
  private readonly drained = (d: Drain): void => this.drainOver(d);

  constructor(private readonly transport: LegTransport, private readonly ex: Exchange) {
    const plan = ex.plan;
    const n = plan.fanOut;
    this.rest = plan.targets.slice(n);
    const limits = ex.ctx.opts.limits;
    this.legs = plan.targets.slice(0, n).map((v) => new Leg(v, transport, this, limits.responseHeadSize));
    this.timer = setTimeout(onDeadline, ex.firstByteDeadline(plan.targets[0]!), this);
    for (const leg of this.legs) leg.seq.next((err, c, s) => this.connected(leg, err, c, s));
  }

  private connected(leg: Leg, err: Error | null, c?: Candidate, socket?: net.Socket): void {
    const t = this.transport;
    if (socket !== undefined) t.adopt(socket, c!.server, leg.reused, this);
    if (this.done) {
      if (socket !== undefined) t.discard(socket);
      return;
    }
    if (err !== null || c === undefined || socket === undefined) {
      this.settle(leg, 'bad', err as UpshiftError);
      return;
    }
    const request = t.request();
    if (request === null || request.length === 0) {
      // The request outgrew what we keep: this leg cannot get all of it.
      t.discard(socket);
      this.settle(leg, 'bad', new NoUpstreamError('request too large to send to several versions'));
      return;
    }
    leg.socket = socket;
    leg.server = c.server;
    socket.cork();
    for (const piece of request) socket.write(piece);
    socket.uncork();
    if (t.clientEnded) socket.end();
    t.connected();
    this.trim();
  }

  /** A body piece of the request: to every live leg, and kept for legs still connecting. */
  body(piece: Buffer): void {
    // Over budget: wait (client paused) until every leg has connected and
    // received what is kept, then stop keeping. Memory stays bounded by the
    // budget plus one read.
    this.transport.keep(piece);
    this.trim();
    let full = false;
    for (const leg of this.legs) {
      if (leg.socket !== null && leg.outcome !== 'bad' && !leg.socket.write(piece)) full = true;
    }
    if (full) this.transport.client.pause();
  }

  /** The client sent its FIN: every live leg gets it. */
  clientEnd(): void {
    for (const leg of this.legs) if (leg.socket !== null && leg.outcome !== 'bad') leg.socket.end();
  }

  /** Drops the kept request bytes once no leg needs them; until then holds the client. */
  private trim(): void {
    const t = this.transport;
    if (!t.overBudget) return;
    if (this.legs.some((l) => l.socket === null && l.outcome === 'pending')) {
      t.client.pause();
      return;
    }
    t.drop();
    if (t.clientOpen) t.client.resume();
  }

  private legOf(socket: net.Socket): Leg | undefined {
    for (const leg of this.legs) if (leg.socket === socket) return leg;
    return undefined;
  }

  upstreamData(socket: net.Socket, d: Buffer): void {
    const leg = this.legOf(socket);
    if (leg === undefined) return;
    if (leg.reader !== null) {
      leg.reader.feed(d);
      if (leg.reader.over) this.compared(leg);
      return;
    }
    if (this.done) return;
    leg.chunks.push(d);
    leg.bytes += d.length;
    if (leg.outcome !== 'pending') {
      if (leg.bytes > this.ex.ctx.opts.limits.concurrentBuffer) socket.pause();
      return;
    }
    const r = leg.finder.feed(d);
    if (r === null) return;
    if (r instanceof Error) {
      this.settle(leg, 'bad', new BadResponseError(leg.server!.key, r.message));
      return;
    }
    leg.status = r.statusCode;
    this.settle(leg, r.statusCode >= 500 ? 'bad' : 'good', undefined);
  }

  upstreamEnd(socket: net.Socket): void {
    const leg = this.legOf(socket);
    if (leg !== undefined) leg.ended = true;
    if (leg?.reader != null) {
      leg.reader.end();
      this.compared(leg);
      return;
    }
    this.legGone(leg);
  }

  upstreamError(socket: net.Socket): void {
    const leg = this.legOf(socket);
    if (leg?.reader != null) this.compared(leg);
    else this.legGone(leg);
  }

  upstreamClose(socket: net.Socket): void {
    const leg = this.legOf(socket);
    if (leg !== undefined) leg.closed = true;
    if (leg?.reader != null) {
      this.compared(leg);
      return;
    }
    this.legGone(leg);
  }

  upstreamDrain(): void {
    for (const leg of this.legs) if (leg.socket !== null && leg.socket.writableNeedDrain) return;
    if (this.transport.clientOpen) this.transport.client.resume();
  }

  /**
   * A leg's server closed. Before a head, the leg failed; after one, what it
   * sent stays usable: the winner's end and close are passed on with it.
   */
  private legGone(leg: Leg | undefined): void {
    if (leg === undefined || this.done) return;
    if (leg.outcome === 'pending') this.settle(leg, 'bad', new UpstreamClosedError(leg.server!.key));
  }

  private settle(leg: Leg, outcome: LegOutcome, err: UpshiftError | undefined): void {
    if (leg.outcome !== 'pending') return;
    leg.outcome = outcome;
    leg.err = err;
    if (outcome === 'bad' && leg.status === 0) {
      // Failed without an answer: counted against its version (never an ejection), and the leg stops.
      if (leg.socket !== null && leg.server !== null) {
        this.transport.discard(leg.socket);
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
    this.transport.fallBack(this.rest, this.legs[0]?.err ?? new NoUpstreamError());
  }

  private win(leg: Leg): void {
    const other = this.comparable(leg);
    this.finish(leg, other);
    if (other !== undefined) this.compare(leg, other);
    const buf = leg.chunks.length === 1 ? leg.chunks[0]! : Buffer.concat(leg.chunks);
    this.transport.handOver(leg.version, leg.server!, leg.socket!, leg.reused, buf, leg.ended, leg.closed);
  }

  /**
   * The leg whose answer is compared with the winner's: the previous
   * version's, when the newest won an idempotent request and the previous
   * one has answered well or is still answering (a 5xx on either side is
   * judgement's, not a difference).
   */
  private comparable(winner: Leg): Leg | undefined {
    const other = this.legs[1];
    if (winner !== this.legs[0] || other === undefined || !this.ex.idempotent) return undefined;
    if (other.socket === null || other.outcome === 'bad') return undefined;
    return this.ex.ctx.compare.comparesLegs(winner.version) ? other : undefined;
  }

  /** The winner's answer is compared with `other`'s, read on from what it sent so far. */
  private compare(winner: Leg, other: Leg): void {
    const c = begin(this.ex.ctx, winner.version, other.version, other.server, this.ex.method, this.ex.replica, Date.now());
    this.ex.compareAnswer(c.newest);
    const reader = c.previous;
    const chunks = other.chunks;
    other.chunks = [];
    const timeout = this.ex.ctx.compare.options(winner.version).timeout;
    if (!other.ended && !other.closed) {
      const d = this.transport.drain(other.socket!, chunks, () => this.compared(other), reader);
      if (d !== null) {
        other.socket = null;
        other.drain = d;
        if (!d.over) this.readOn(other, timeout);
        return;
      }
    }
    other.reader = reader;
    for (const d of chunks) reader.feed(d);
    if (other.ended || other.closed) reader.end();
    if (reader.over) {
      this.compared(other);
      return;
    }
    this.readOn(other, timeout);
    other.socket!.resume();
  }

  /** `leg` is read on for a comparison until `timeout`, or until the proxy closes. */
  private readOn(leg: Leg, timeout: number): void {
    // The deadline alone must not keep a process alive; the proxy's close ends the leg.
    leg.timer = setTimeout(onCompareTimeout, timeout, this, leg).unref();
    leg.release = this.ex.ctx.compare.reads(() => this.compared(leg));
  }

  /** A compared loser's answer is read (or given up): its connection closes. */
  compared(leg: Leg): void {
    clearTimeout(leg.timer);
    leg.release?.();
    leg.release = null;
    leg.drain?.cut();
    leg.drain = null;
    leg.reader?.fail();
    leg.reader = null;
    if (leg.socket !== null) this.transport.discard(leg.socket);
    leg.socket = null;
  }

  /** Closes every leg but `keep` (and the one `win` compares with it, which it reads on). */
  private finish(keep: Leg | null, compared?: Leg): void {
    this.done = true;
    for (const leg of this.legs) {
      if (leg === keep) continue;
      leg.seq.cancel();
      if (leg.socket !== null) {
        // A loser that answered still counts as a request it served.
        if (leg.status !== 0) this.ex.leg(leg.version, leg.server, this.ex.account(leg.version, leg.server!, leg.status), leg.status);
        if (leg === compared) continue;
        const socket = leg.socket;
        leg.socket = null;
        const d = leg.ended || leg.closed ? null : this.transport.drain(socket, leg.chunks, this.drained);
        leg.chunks = [];
        if (d === null) this.transport.discard(socket);
        else if (!d.over) (this.drains ??= []).push(d);
      }
    }
    if (this.drains === null) clearTimeout(this.timer);
  }

  private drainOver(d: Drain): void {
    const drains = this.drains;
    if (drains === null) return;
    const i = drains.indexOf(d);
    if (i !== -1) drains.splice(i, 1);
    if (drains.length === 0) {
      this.drains = null;
      clearTimeout(this.timer);
    }
  }

  deadline(): void {
    if (this.done) {
      // What a loser has not answered by now is not worth its connection.
      for (const d of this.drains?.splice(0) ?? []) d.cut();
      this.drains = null;
      return;
    }
    for (const leg of this.legs) {
      if (leg.outcome === 'pending') this.settle(leg, 'bad', new FirstByteTimeoutError(leg.server?.key ?? leg.version.version));
    }
  }

  /** The client went away, or the connection failed: every leg closes. */
  abort(): void {
    if (this.done) return;
    this.finish(null);
  }
}

function onDeadline(x: Concurrent): void {
  x.deadline();
}

function onCompareTimeout(x: Concurrent, leg: Leg): void {
  x.compared(leg);
}

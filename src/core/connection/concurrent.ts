import type net from 'node:net';
import { chooseLeg } from './choose.js';
import { BadResponseError, FirstByteTimeoutError, NoUpstreamError, UpstreamClosedError, type UpshiftError } from '../errors.js';
import { HeadFinder } from '../http/parser.js';
import { failureOutcome, headAttempt } from '../judge/outcome.js';
import type { Plan } from '../routing/strategies/index.js';
import type { VersionState } from '../routing/version.js';
import { DialSequence, type Candidate } from '../upstream/dial.js';
import type { ServerState } from '../upstream/server.js';
import { reportFailure } from './report.js';
import type { StreamConnection } from './stream.js';

/**
 * CONCURRENT in stream mode: the request goes to the newest N versions at
 * once; every leg is read in parallel (a hang in one never holds up the
 * others) until the first-byte deadline. The newest leg that answered with a
 * final status below 500 wins as soon as every newer leg has failed; its
 * buffered bytes and its socket are handed to the connection, and the other
 * legs are closed. If every leg failed, the newest 5xx answer is passed on,
 * or, when none answered at all, the rest of the plan is tried in order.
 *
 * Memory: client bytes are kept (for legs still connecting) up to
 * `limits.retryBuffer`; each leg buffers at most `limits.concurrentBuffer`
 * response bytes before its socket is paused.
 */
type Outcome = 'pending' | 'good' | 'bad';

interface Leg {
  readonly version: VersionState;
  readonly seq: DialSequence;
  socket: net.Socket | null;
  server: ServerState | null;
  outcome: Outcome;
  status: number;
  finder: HeadFinder;
  chunks: Buffer[];
  bytes: number;
  headStart: number;
  headEnd: number;
  ended: boolean;
  closed: boolean;
  err: UpshiftError | undefined;
  listeners: Array<[string, (...args: any[]) => void]>;
}

export class ConcurrentExchange {
  private readonly legs: Leg[];
  private readonly rest: readonly VersionState[];
  private readonly timer: NodeJS.Timeout;
  private done = false;

  constructor(private readonly conn: StreamConnection, plan: Plan) {
    const n = plan.fanOut;
    this.rest = plan.targets.slice(n);
    const ctx = conn.ctx;
    const limits = ctx.opts.limits;
    this.legs = plan.targets.slice(0, n).map((version) => ({
      version, seq: new DialSequence([version], conn), socket: null, server: null, outcome: 'pending' as Outcome,
      status: 0, finder: new HeadFinder('RESPONSE', limits.responseHeadSize, true), chunks: [], bytes: 0,
      headStart: 0, headEnd: 0, ended: false, closed: false, err: undefined, listeners: [],
    }));
    const deadline = plan.targets[0]!.spec.transition.firstByteTimeout ?? ctx.opts.timeouts.firstByte;
    this.timer = setTimeout(() => this.deadline(), deadline);
    for (const leg of this.legs) leg.seq.next((err, c, s) => this.connected(leg, err, c, s));
  }

  private connected(leg: Leg, err: Error | null, c?: Candidate, socket?: net.Socket): void {
    if (this.done) {
      socket?.destroy();
      return;
    }
    if (err !== null || c === undefined || socket === undefined) {
      this.settle(leg, 'bad', err as UpshiftError);
      return;
    }
    const chunks = this.conn.chunks;
    if (chunks === null) {
      // The request outgrew what we keep: this leg cannot get all of it.
      socket.destroy();
      this.settle(leg, 'bad', new NoUpstreamError('request too large to send to several versions'));
      return;
    }
    leg.socket = socket;
    leg.server = c.server;
    const on = (ev: string, fn: (...args: any[]) => void): void => {
      socket.on(ev, fn);
      leg.listeners.push([ev, fn]);
    };
    on('data', (d: Buffer) => this.legData(leg, d));
    on('end', () => {
      leg.ended = true;
      if (leg.outcome === 'pending') this.settle(leg, 'bad', new UpstreamClosedError(c.server.key));
    });
    on('error', () => {
      if (leg.outcome === 'pending') this.settle(leg, 'bad', new UpstreamClosedError(c.server.key));
    });
    on('close', () => {
      leg.closed = true;
      if (leg.outcome === 'pending') this.settle(leg, 'bad', new UpstreamClosedError(c.server.key));
    });
    on('drain', () => this.legDrain());
    socket.cork();
    for (const chunk of chunks) socket.write(chunk);
    socket.uncork();
    if (this.conn.clientEnded) socket.end();
    this.conn.client.resume();
  }

  private legData(leg: Leg, d: Buffer): void {
    if (this.done) return;
    leg.chunks.push(d);
    leg.bytes += d.length;
    if (leg.outcome !== 'pending') {
      if (leg.bytes > this.conn.ctx.opts.limits.concurrentBuffer) leg.socket!.pause();
      return;
    }
    const r = leg.finder.feed(d);
    if (r === null) return;
    if (r instanceof Error) {
      this.settle(leg, 'bad', new BadResponseError(leg.server!.key, r.message));
      return;
    }
    leg.status = r.statusCode;
    leg.headStart = r.start;
    leg.headEnd = r.end;
    const v = leg.version;
    if (r.statusCode >= 500) {
      this.settle(leg, 'bad', undefined);
    } else {
      this.conn.ctx.health.success(v, leg.server!);
      this.settle(leg, 'good', undefined);
    }
  }

  private settle(leg: Leg, outcome: Outcome, err: UpshiftError | undefined): void {
    if (leg.outcome !== 'pending') return;
    leg.outcome = outcome;
    leg.err = err;
    if (outcome === 'bad' && leg.status === 0) {
      // Failed without an answer: count it against the server, and stop the leg.
      if (leg.socket !== null && leg.server !== null) {
        leg.socket.destroy();
        if (err !== undefined) reportFailure(this.conn.ctx, this.conn.id, leg.version, leg.server, err);
        // Not an ejection: see StreamConnection.onFailure (only failed connects eject).
      }
      leg.version.stats.errors++;
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
    const err = this.legs[0]?.err ?? new NoUpstreamError();
    this.conn.fallbackFrom(this, this.rest, err);
  }

  private win(leg: Leg): void {
    this.finish(leg);
    const socket = leg.socket!;
    for (const [ev, fn] of leg.listeners) socket.removeListener(ev, fn);
    const buf = leg.chunks.length === 1 ? leg.chunks[0]! : Buffer.concat(leg.chunks);
    this.conn.adopt(leg.version, leg.server!, socket, buf, leg.headStart, leg.headEnd, leg.status);
    // Events that happened while the leg waited are replayed to the connection.
    if (leg.ended) this.conn.upstreamEnd(socket);
    if (leg.closed) this.conn.upstreamClose(socket);
    else if (!this.conn.client.writableNeedDrain) socket.resume();
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
        }
        // Judgement hears the legs that were decided (failed connects were told by the dial).
        if (leg.outcome !== 'pending') this.conn.attempts.push(leg.status !== 0 ? headAttempt(this.conn.ctx.judge, leg.version, leg.status, 0) : { version: leg.version, outcome: failureOutcome(leg.err) });
        leg.socket.on('error', noop);
        leg.socket.destroy();
      }
    }
  }

  private deadline(): void {
    if (this.done) return;
    for (const leg of this.legs) {
      if (leg.outcome === 'pending') this.settle(leg, 'bad', new FirstByteTimeoutError(leg.server?.key ?? leg.version.version));
    }
  }

  private legDrain(): void {
    for (const leg of this.legs) if (leg.socket !== null && leg.socket.writableNeedDrain) return;
    this.conn.client.resume();
  }

  /** More request bytes from the client while the legs are out. */
  clientData(chunk: Buffer): void {
    this.conn.keep(chunk, false);
    let full = false;
    for (const leg of this.legs) {
      if (leg.socket !== null && leg.outcome !== 'bad' && !leg.socket.write(chunk)) full = true;
    }
    if (full) this.conn.client.pause();
  }

  clientEnd(): void {
    for (const leg of this.legs) if (leg.socket !== null && leg.outcome !== 'bad') leg.socket.end();
  }

  abort(): void {
    if (this.done) return;
    this.finish(null);
  }
}

function noop(): void {}

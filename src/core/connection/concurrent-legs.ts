import type net from 'node:net';
import type { UpshiftError } from '../errors.js';
import type { VersionState } from '../routing/version.js';
import type { Candidate, DialHooks } from '../upstream/dial.js';
import type { PoolUser, UpstreamPool } from '../upstream/pool.js';
import type { ServerState } from '../upstream/server.js';
import type { Drain, LegTransport, Pausable } from './concurrent.js';
import { LOSER_READ_LIMIT, LoserDrain, type Tap } from './loser-drain.js';
import type { Exchange } from './exchange.js';
import type { KeptRequest } from './kept-request.js';
import type { RequestBody } from './request-body.js';

/** What a stream-mode connection gives its CONCURRENT legs (an interface: no import circle). */
export interface StreamLegOwner {
  readonly client: net.Socket;
  readonly clientOpen: boolean;
  readonly clientEnded: boolean;
  /** The client bytes kept so far (`chunks`: null once they outgrew what is kept). */
  readonly kept: KeptRequest;
  adopt(v: VersionState, s: ServerState, socket: net.Socket, buffered: Buffer): void;
  fallbackFrom(rest: readonly VersionState[], err: UpshiftError): void;
  upstreamEnd(socket: net.Socket): void;
  upstreamClose(socket: net.Socket): void;
}

type Listeners = Array<[string, (...args: any[]) => void]>;

/**
 * Stream mode's legs: fresh connections, listened to here until one is
 * handed over. The connection keeps the request bytes itself (`keep`), and
 * stops keeping them as soon as they outgrow the retry buffer.
 */
export class StreamLegs implements LegTransport {
  private readonly listening = new Map<net.Socket, Listeners>();
  readonly overBudget = false;

  constructor(private readonly conn: StreamLegOwner, private readonly ex: Exchange) {}

  get client(): net.Socket { return this.conn.client; }
  get clientOpen(): boolean { return this.conn.clientOpen; }
  get clientEnded(): boolean { return this.conn.clientEnded; }

  hooks(): DialHooks {
    return this.ex;
  }

  adopt(socket: net.Socket, _server: ServerState, _reused: boolean, user: PoolUser): void {
    const list: Listeners = [
      ['data', (d: Buffer) => user.upstreamData(socket, d)],
      ['end', () => user.upstreamEnd(socket)],
      ['error', (err: Error) => user.upstreamError(socket, err)],
      ['close', () => user.upstreamClose(socket)],
      ['drain', () => user.upstreamDrain(socket)],
    ];
    for (const [ev, fn] of list) socket.on(ev, fn);
    this.listening.set(socket, list);
  }

  private unlisten(socket: net.Socket): void {
    for (const [ev, fn] of this.listening.get(socket) ?? []) socket.removeListener(ev, fn);
    this.listening.delete(socket);
  }

  request(): readonly Buffer[] | null {
    return this.conn.kept.chunks;
  }

  keep(piece: Buffer): void {
    this.conn.kept.keep(piece, false);
  }

  drop(): void {}

  connected(): void {
    this.conn.client.resume();
  }

  discard(socket: net.Socket): void {
    this.unlisten(socket);
    socket.on('error', noop);
    socket.destroy();
  }

  /** A fresh connection is not kept after its request: nothing to read on for. */
  drain(): Drain | null {
    return null;
  }

  handOver(v: VersionState, s: ServerState, socket: net.Socket, _reused: boolean, buffered: Buffer, ended: boolean, closed: boolean): void {
    this.unlisten(socket);
    this.conn.adopt(v, s, socket, buffered);
    // Events that happened while the leg waited are replayed to the connection.
    if (ended) this.conn.upstreamEnd(socket);
    if (closed) this.conn.upstreamClose(socket);
    else if (!this.conn.client.writableNeedDrain) socket.resume();
  }

  fallBack(rest: readonly VersionState[], err: UpshiftError): void {
    this.conn.fallbackFrom(rest, err);
  }
}

/** What an http-mode connection gives its CONCURRENT legs (an interface: no import circle). */
export interface HttpLegOwner extends PoolUser {
  /** Paused while the legs cannot take more of the request. */
  readonly client: Pausable;
  readonly clientOpen: boolean;
  readonly pool: UpstreamPool;
  readonly body: RequestBody;
  adopt(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean, buffered: Buffer | null): void;
  fallbackFrom(rest: readonly VersionState[], err: UpshiftError): void;
}

/**
 * http mode's legs: pooled (or new, then pooled) connections, whose events
 * the pool sends to the CONCURRENT exchange until the winner is lent to the
 * connection. The request bytes stay held in the connection's `RequestBody`.
 */
export class PooledLegs implements LegTransport {
  readonly clientEnded = false;

  constructor(private readonly conn: HttpLegOwner, private readonly ex: Exchange) {}

  get client(): Pausable { return this.conn.client; }
  get clientOpen(): boolean { return this.conn.clientOpen; }

  get overBudget(): boolean {
    return this.conn.body.overBudget && this.conn.body.heldPieces.length !== 0;
  }

  hooks(user: PoolUser, reused: () => void): DialHooks {
    const ex = this.ex;
    const pool = this.conn.pool;
    return {
      connectTimeout: ex.connectTimeout,
      limit: pool,
      reuse(c: Candidate): net.Socket | undefined {
        const s = pool.take(c.server, user);
        if (s !== undefined) reused();
        return s;
      },
      onSuccess: (c, socket, ms) => ex.onSuccess(c, socket, ms),
      onFailure: (c, err) => ex.onFailure(c, err),
    };
  }

  adopt(socket: net.Socket, server: ServerState, reused: boolean, user: PoolUser): void {
    if (!reused) this.conn.pool.adopt(socket, server, user);
  }

  request(): readonly Buffer[] | null {
    const held = this.conn.body.heldPieces;
    return held.length === 0 ? null : held;
  }

  keep(piece: Buffer): void {
    this.conn.body.keepForLegs(piece);
  }

  drop(): void {
    this.conn.body.dropHeld();
  }

  connected(): void {}

  discard(socket: net.Socket): void {
    this.conn.pool.discard(socket);
  }

  drain(socket: net.Socket, buffered: readonly Buffer[], done: (d: Drain) => void, tap?: Tap): Drain | null {
    // A loser that missed part of the body (it still goes to the winner) owes no clean answer.
    if (!this.conn.body.done) return null;
    const d = new LoserDrain(this.conn.pool, socket, this.ex.method, this.ex.ctx.opts.limits.responseHeadSize, LOSER_READ_LIMIT, done, tap);
    d.start(buffered);
    return d;
  }

  handOver(v: VersionState, s: ServerState, socket: net.Socket, reused: boolean, buffered: Buffer, ended: boolean, closed: boolean): void {
    // The connection reads the winner again from its first byte (1xx included).
    this.conn.adopt(v, s, socket, reused, buffered);
    if (ended) this.conn.upstreamEnd(socket);
    if (closed) this.conn.upstreamClose(socket);
    else socket.resume();
  }

  fallBack(rest: readonly VersionState[], err: UpshiftError): void {
    this.conn.fallbackFrom(rest, err);
  }
}

function noop(): void {}

import type net from 'node:net';
import { BadResponseError, UpstreamClosedError, type UpshiftError } from '../errors.js';
import type { ResponseHead } from '../http/response-head.js';
import type { VersionState } from '../routing/version.js';
import type { FailureKind } from '../upstream/failover.js';
import type { ServerState } from '../upstream/server.js';
import type { ClientSide, Exchange } from './exchange.js';
import { ResponseHeadReader } from './head-reader.js';

/** What a connection does with what its attempt finds, each mode its own way. */
export interface AttemptOwner {
  /** The connection's side of the request, for failover. */
  side(partial: boolean): ClientSide;
  /** An upstream socket that carries nothing more (stream mode destroys it, http mode's pool discards it). */
  release(socket: net.Socket): void;
  /** The request goes again, from its first byte, to the next candidate; `cause`: the failure that made it. */
  redial(cause: UpshiftError | null): void;
  /** No retry: the client is answered with `err`. */
  fail(err: UpshiftError): void;
  /** An interim head (1xx other than 101), at [0, end) of `buf`. */
  interim(buf: Buffer, end: number): void;
  /** The final head (or a 101) is complete, at [0, info.end) of `reader.bytes`. */
  answerHead(info: ResponseHead): void;
  /** The first-byte deadline passed. */
  firstByteTimeout(): void;
}

/**
 * One attempt at a request's answer, the same in both modes: the upstream
 * socket the request went to (with its version and server), the first-byte
 * deadline, and the reading of the response head until failover keeps it.
 * Every failure before a kept head (a reset, a FIN, a stall, a bad head, a
 * status that judgement retries) goes through the `Exchange`, which asks
 * `upstream/failover.ts`: the next candidate (`owner.redial`), or the
 * failure is the answer (`owner.fail`).
 *
 * `version` stays after the socket went: the connection's close report names it.
 */
export class Attempt {
  socket: net.Socket | null = null;
  version: VersionState | null = null;
  server: ServerState | null = null;
  /** The socket came from the pool (http mode). */
  reused = false;
  /** From the request's sending until failover kept a head (or the attempt was dropped). */
  inHead = false;
  /** Bytes of the answer this attempt read while in its head. */
  got = 0;
  /** When the head is due, for the proxy's sweep (0: none due, or a timer watches it). */
  dueAt = 0;
  readonly reader: ResponseHeadReader;
  private timer: NodeJS.Timeout | undefined;
  private ex: Exchange | null = null;
  private readonly interimCb: (buf: Buffer, end: number) => void;
  /** The client's side for failover, asked only when a status could be retried (made once, like `interimCb`). */
  private readonly sideCb: () => ClientSide;

  constructor(
    private readonly owner: AttemptOwner,
    /** What `VersionState.open` holds for the connection (ended when its version is removed). */
    private readonly conn: { destroy(): void },
    headLimit: number,
  ) {
    this.reader = new ResponseHeadReader(headLimit);
    this.interimCb = (buf, end) => owner.interim(buf, end);
    this.sideCb = () => owner.side(true);
  }

  /** The request now goes to `socket`, of `s` of `v` (`now`: the caller's clock reading, when it has one). */
  start(ex: Exchange, v: VersionState, s: ServerState, socket: net.Socket, reused: boolean, now?: number): void {
    this.ex = ex;
    this.socket = socket;
    this.version = v;
    this.server = s;
    this.reused = reused;
    this.inHead = true;
    this.got = 0;
    this.reader.reset();
    v.open.add(this.conn);
    ex.attached(v, s, reused, now);
  }

  /** The head may take `ms` from `now`: a deadline at least `sweepAbove` long is left to the proxy's sweep (`due`), a shorter one gets a timer. */
  arm(ms: number, sweepAbove: number, now = Date.now()): void {
    if (ms >= sweepAbove) {
      this.dueAt = now + ms;
    } else {
      this.dueAt = 0;
      this.timer = setTimeout(onFirstByteTimeout, ms, this.owner);
    }
  }

  disarm(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.dueAt = 0;
  }

  /** A swept deadline passed. */
  due(now: number): boolean {
    return this.inHead && this.dueAt !== 0 && now >= this.dueAt;
  }

  /** A piece of the answer while its head is read. */
  data(chunk: Buffer): void {
    this.got += chunk.length;
    const info = this.reader.final(chunk, this.interimCb);
    if (info === null) return;
    if (typeof info === 'string') this.failed(new BadResponseError(this.server!.key, info), 'bad-response');
    else this.owner.answerHead(info);
  }

  /**
   * Asks failover of the final head with `status` (`owner.answerHead` calls this).
   * True: it is the answer, counted. False: dropped; the request was sent on.
   */
  keep(status: number): boolean {
    this.disarm();
    if (this.ex!.head(this.version!, this.server!, status, this.sideCb)) {
      // Dropped: its connection closes (no body is read), and the request goes on.
      this.drop();
      this.owner.redial(null);
      return false;
    }
    this.inHead = false;
    return true;
  }

  /** The server closed (or reset) before a kept head. */
  closed(): void {
    this.failed(new UpstreamClosedError(this.server!.key), 'reset');
  }

  /** The attempt failed before a kept head: the next candidate, or the answer. */
  failed(err: UpshiftError, kind: Exclude<FailureKind, 'unreachable' | 'status'>): void {
    const v = this.version!;
    const s = this.server!;
    this.drop();
    const side = this.owner.side(this.got !== 0);
    // A pooled connection the server closed while it sat idle is not a
    // failure of the server (its keep-alive timeout beat ours).
    const stale = this.reused && this.got === 0 && err.code === 'UPS_ERR_UPSTREAM_CLOSED';
    if (stale ? this.ex!.stale(side) : this.ex!.failed(v, s, kind, err, side)) this.owner.redial(err);
    else this.owner.fail(err);
  }

  /** Closes the attempt's socket and forgets its answer so far. */
  drop(): void {
    this.disarm();
    const socket = this.socket!;
    this.socket = null;
    this.inHead = false;
    this.reader.reset();
    this.owner.release(socket);
    this.version!.open.delete(this.conn);
  }

  /** The socket is no longer this attempt's (the answer is over, or the connection ends): returns it. */
  detach(): net.Socket | null {
    const socket = this.socket;
    this.disarm();
    this.socket = null;
    this.inHead = false;
    if (socket !== null) this.version?.open.delete(this.conn);
    return socket;
  }
}

function onFirstByteTimeout(owner: AttemptOwner): void { owner.firstByteTimeout(); }

import net from 'node:net';
import { ConnectError, ConnectTimeoutError, NoUpstreamError } from '../errors.js';
import type { VersionState } from '../routing/version.js';
import type { ConnectionLimit } from './pool.js';
import type { ServerState } from './server.js';

/** A server to try, with the version it belongs to. */
export interface Candidate {
  readonly version: VersionState;
  readonly server: ServerState;
}

export interface DialHooks {
  readonly connectTimeout: number;
  /** An open keep-alive connection to `c.server` to use instead of connecting (http mode's pool). */
  reuse?(c: Candidate): net.Socket | undefined;
  /**
   * Connections per server (http mode's pool). A connect is admitted first;
   * a socket handed to the callback holds its admission until the caller
   * adopts it into the pool (or gives it back with `unadmit`).
   */
  readonly limit?: ConnectionLimit;
  onSuccess(c: Candidate, socket: net.Socket, ms: number): void;
  onFailure(c: Candidate, err: Error): void;
}

type DialCallback = (err: Error | null, c?: Candidate, socket?: net.Socket) => void;

const kDial = Symbol('upshift.dial');
/** A socket being connected, tagged with the loop that waits for it. */
type Dialing = net.Socket & { [kDial]?: DialSequence };

/**
 * The failover loop around a plan (caddy's habit: the loop is outside the
 * policies). It walks the plan's versions in order and, within each, the
 * servers in the order its balancer gives; servers that are ejected are
 * passed over at first and tried last, so a proxy whose every server was
 * recently ejected still gets an answer when one of them is back.
 * `next()` may be called again after a connected server failed before
 * responding: it resumes where it stopped, never trying a server twice.
 */
export class DialSequence {
  private vi = 0;
  private queue: ServerState[] = [];
  private queueVersion: VersionState | undefined;
  private readonly skipped: Candidate[] = [];
  private readonly tried = new Set<ServerState>();
  /** The connect in progress, to `pendingCandidate`, for `pendingCb` (started at `started`). */
  private pending: Dialing | undefined;
  private pendingCandidate: Candidate | undefined;
  private pendingCb: DialCallback | undefined;
  private started = 0;
  /** Waiting for a connection to a server at its limit. */
  private parked: { server: ServerState; wake: () => void } | undefined;
  /** A server was passed over because it stayed at its connection limit. */
  private busy = false;
  private timer: NodeJS.Timeout | undefined;
  private cancelled = false;
  /** Attempts made so far. */
  attempts = 0;

  constructor(
    private readonly versions: readonly VersionState[],
    private readonly hooks: DialHooks,
  ) {}

  /** Next candidate, or undefined when every server was tried. */
  private take(now: number): Candidate | undefined {
    for (;;) {
      const s = this.queue.shift();
      if (s !== undefined) {
        const v = this.queueVersion!;
        if (this.tried.has(s)) continue;
        if (!s.available(now)) {
          this.skipped.push({ version: v, server: s });
          continue;
        }
        this.tried.add(s);
        return { version: v, server: s };
      }
      const v = this.versions[this.vi++];
      if (v === undefined) break;
      this.queueVersion = v;
      this.queue = v.balancer.order(v.servers, now);
    }
    for (;;) {
      const c = this.skipped.shift();
      if (c === undefined) return undefined;
      if (this.tried.has(c.server)) continue;
      this.tried.add(c.server);
      return c;
    }
  }

  /**
   * Whether a candidate is left to try: the current version's remaining
   * servers, then the later versions'; ejected ones only with `ejectedToo`
   * (they are tried last). Takes nothing.
   */
  hasMore(now: number, ejectedToo: boolean): boolean {
    const ok = (s: ServerState): boolean => !this.tried.has(s) && (ejectedToo || s.available(now));
    for (const s of this.queue) if (ok(s)) return true;
    for (let i = this.vi; i < this.versions.length; i++) for (const s of this.versions[i]!.servers) if (ok(s)) return true;
    return ejectedToo && this.skipped.some((c) => !this.tried.has(c.server));
  }

  /** Leaves `server` out (it was tried before this loop was built). */
  exclude(server: ServerState): void {
    this.tried.add(server);
  }

  /** Connects to the next candidate that accepts; calls back once. */
  next(cb: DialCallback): void {
    if (this.cancelled) return;
    const c = this.take(Date.now());
    if (c === undefined) {
      cb(this.busy ? new NoUpstreamError('every server is at its connection limit') : new NoUpstreamError());
      return;
    }
    this.attempts++;
    this.attempt(c, cb);
  }

  private attempt(c: Candidate, cb: DialCallback): void {
    const reused = this.hooks.reuse?.(c);
    if (reused !== undefined) {
      cb(null, c, reused);
      return;
    }
    const limit = this.hooks.limit;
    if (limit !== undefined && !limit.admit(c.server)) {
      // At its limit: wait for one of its connections to go idle or close,
      // at most the connect timeout, then go on without counting a failure.
      const wake = (): void => {
        if (this.parked?.wake !== wake) return;
        this.parked = undefined;
        clearTimeout(this.timer);
        this.attempt(c, cb);
      };
      this.parked = { server: c.server, wake };
      limit.wait(c.server, wake);
      this.timer = setTimeout(() => {
        if (this.parked?.wake !== wake) return;
        this.parked = undefined;
        limit.unwait(c.server, wake);
        this.busy = true;
        this.next(cb);
      }, this.hooks.connectTimeout);
      return;
    }
    const onread = limit?.onread;
    const socket = (onread === undefined
      ? net.connect({ host: c.server.hostname, port: c.server.port, allowHalfOpen: true, noDelay: true })
      : net.connect({ host: c.server.hostname, port: c.server.port, allowHalfOpen: true, noDelay: true, onread })) as Dialing;
    socket[kDial] = this;
    this.pending = socket;
    this.pendingCandidate = c;
    this.pendingCb = cb;
    this.started = Date.now();
    socket.on('connect', onDialConnect);
    socket.on('error', onDialError);
    this.timer = setTimeout(onDialTimeout, this.hooks.connectTimeout, this, socket);
  }

  /** The connect in progress on `socket` succeeded. */
  connected(socket: Dialing): void {
    if (this.pending !== socket) return;
    const c = this.pendingCandidate!;
    const cb = this.pendingCb!;
    this.forget(socket);
    this.hooks.onSuccess(c, socket, Date.now() - this.started);
    cb(null, c, socket);
  }

  /** The connect in progress on `socket` failed with `cause` (null: it timed out): the next candidate. */
  failed(socket: Dialing, cause: Error | null): void {
    if (this.pending !== socket) return;
    const c = this.pendingCandidate!;
    const cb = this.pendingCb!;
    const err = cause === null ? new ConnectTimeoutError(c.server.key) : new ConnectError(c.server.key, cause);
    this.forget(socket);
    socket.on('error', ignore);
    socket.destroy();
    this.hooks.limit?.unadmit(c.server);
    this.hooks.onFailure(c, err);
    this.next(cb);
  }

  /** The connect is over: its timer and handlers go; the socket is the caller's (or destroyed) from here on. */
  private forget(socket: Dialing): void {
    this.pending = undefined;
    this.pendingCandidate = undefined;
    this.pendingCb = undefined;
    clearTimeout(this.timer);
    socket.removeListener('connect', onDialConnect);
    socket.removeListener('error', onDialError);
  }

  /** Stops the loop and drops a connect in progress (the client went away). */
  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.timer);
    const limit = this.hooks.limit;
    if (this.parked !== undefined) {
      limit?.unwait(this.parked.server, this.parked.wake);
      this.parked = undefined;
    }
    const s = this.pending;
    if (s !== undefined) {
      const server = this.pendingCandidate!.server;
      this.forget(s);
      // Whatever it reports while being destroyed is nobody's concern now.
      s.on('error', ignore);
      s.destroy();
      limit?.unadmit(server);
    }
  }
}

// A connect's handlers are module functions that find their loop through a
// symbol on the socket (`this` is the socket): no closures per connect.
function onDialConnect(this: Dialing): void { this[kDial]?.connected(this); }
function onDialError(this: Dialing, err: Error): void { this[kDial]?.failed(this, err); }
function onDialTimeout(seq: DialSequence, socket: Dialing): void { seq.failed(socket, null); }
function ignore(): void {}

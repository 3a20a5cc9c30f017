import type net from 'node:net';
import type { ServerState } from './server.js';

/**
 * Keep-alive connections to the servers, for http mode.
 *
 * A connection is in exactly one of two places: lent to a user (an http-mode
 * client connection that is sending one request on it and reading its
 * response), or idle in its server's list. It goes back to the list only
 * when its user read the response to the end and the server did not ask to
 * close (`release`); anything else destroys it (`discard`). An idle
 * connection that receives a byte, a FIN or an error is destroyed: a server
 * that speaks unasked has lost the framing.
 *
 * Socket handlers are module functions dispatching through a symbol on the
 * socket, attached once per connection (not per request).
 *
 * Idle lists are LIFO: the most recently used connection is the one least
 * likely to have been closed by the server's own keep-alive timeout.
 */
export interface PoolUser {
  upstreamData(socket: net.Socket, chunk: Buffer): void;
  upstreamEnd(socket: net.Socket): void;
  upstreamError(socket: net.Socket, err: Error): void;
  upstreamClose(socket: net.Socket): void;
  upstreamDrain(socket: net.Socket): void;
}

const kUser = Symbol('upshift.pool.user');
const kServer = Symbol('upshift.pool.server');
const kPool = Symbol('upshift.pool');
const kIdle = Symbol('upshift.pool.idle');
const kSince = Symbol('upshift.pool.since');
type Pooled = net.Socket & { [kUser]?: PoolUser | null; [kServer]?: ServerState; [kPool]?: UpstreamPool; [kIdle]?: boolean; [kSince]?: number };

export interface PoolOptions {
  /** Idle connections kept per server. */
  readonly maxIdle: number;
  /** Connections per server, in use, idle or being opened (0: no limit). */
  readonly maxPerServer: number;
  /** Milliseconds an idle connection is kept. */
  readonly idleTimeout: number;
}

/**
 * The connection limit per server, as the dial loop sees it: `admit` counts
 * a connect about to start (false when the server is at its limit), `unadmit`
 * takes it back when it failed or was not used, and `wait` queues a callback
 * for the moment a connection of that server becomes idle or closes.
 */
export interface ConnectionLimit {
  /** How the connections the loop opens for this pool are read (`net.connect`'s `onread`). */
  readonly onread?: net.OnReadOpts;
  admit(server: ServerState): boolean;
  unadmit(server: ServerState): void;
  wait(server: ServerState, wake: () => void): void;
  unwait(server: ServerState, wake: () => void): void;
}

export class UpstreamPool implements ConnectionLimit {
  private readonly idle = new Map<ServerState, Pooled[]>();
  /** Requests waiting for a connection to a server at its limit, first come first served. */
  private readonly waiters = new Map<ServerState, Array<() => void>>();
  private closed = false;
  /**
   * Idle connections expire by a periodic sweep, not by a timer per socket:
   * re-arming a socket's timeout on every take and release costs more than
   * the request's own work. A lent connection has no timer of its own
   * either: its user's timeouts (first byte, the client connection's idle
   * sweep) end it.
   */
  private sweeper: NodeJS.Timeout | undefined;
  /** Connections ever opened through `adopt`, and reuses served by `take` (for tests and status). */
  opened = 0;
  reused = 0;
  readonly onread: net.OnReadOpts = POOL_READ;

  constructor(private readonly opts: PoolOptions) {}

  admit(server: ServerState): boolean {
    const max = this.opts.maxPerServer;
    if (max !== 0 && server.pooled + server.connecting >= max) return false;
    server.connecting++;
    return true;
  }

  unadmit(server: ServerState): void {
    if (server.connecting > 0) server.connecting--;
    this.wake(server);
  }

  wait(server: ServerState, wake: () => void): void {
    let list = this.waiters.get(server);
    if (list === undefined) {
      list = [];
      this.waiters.set(server, list);
    }
    list.push(wake);
  }

  unwait(server: ServerState, wake: () => void): void {
    const list = this.waiters.get(server);
    if (list === undefined) return;
    const i = list.indexOf(wake);
    if (i !== -1) list.splice(i, 1);
  }

  /** A connection of `server` went idle or closed: the first waiter may take it (or open one). */
  private wake(server: ServerState): void {
    const list = this.waiters.get(server);
    if (list === undefined || list.length === 0) return;
    const max = this.opts.maxPerServer;
    if (this.idleCount(server) === 0 && max !== 0 && server.pooled + server.connecting >= max) return;
    list.shift()!();
  }

  /** Takes a freshly connected socket (admitted by `admit`) into the pool's care, lent to `user`. */
  adopt(socket: net.Socket, server: ServerState, user: PoolUser): void {
    const s = socket as Pooled;
    if (server.connecting > 0) server.connecting--;
    server.pooled++;
    s[kPool] = this;
    s[kServer] = server;
    s[kUser] = user;
    s[kIdle] = false;
    server.active++;
    this.opened++;
    s.on('data', onData);
    s.on('end', onEnd);
    s.on('error', onError);
    s.on('close', onClose);
    s.on('drain', onDrain);
  }

  /** An idle connection to `server`, now lent to `user`; undefined when none. */
  take(server: ServerState, user: PoolUser): net.Socket | undefined {
    const list = this.idle.get(server);
    if (list === undefined) return undefined;
    for (;;) {
      const s = list.pop();
      if (s === undefined) return undefined;
      if (s.destroyed || !s.writable || s.readableEnded) {
        // Half-closed by the server between its FIN and our handler: never lend it.
        s.destroy();
        continue;
      }
      s[kIdle] = false;
      s[kUser] = user;
      server.active++;
      this.reused++;
      s.ref();
      return s;
    }
  }

  /** The idle connection of the only server in `servers` when it is up (the usual case, taken without a failover loop); undefined otherwise. */
  takeOnly(servers: readonly ServerState[], user: PoolUser, now: number): net.Socket | undefined {
    if (servers.length !== 1) return undefined;
    const server = servers[0]!;
    return server.available(now) ? this.take(server, user) : undefined;
  }

  /** Changes who receives a lent socket's events (CONCURRENT hands a winner over). */
  lend(socket: net.Socket, user: PoolUser): void {
    (socket as Pooled)[kUser] = user;
  }

  /** The response was read to the end and the server keeps the connection: keep it for the next request (idle since `now`). */
  release(socket: net.Socket, now = Date.now()): void {
    const s = socket as Pooled;
    const server = s[kServer]!;
    if (s[kIdle] === true) return;
    s[kUser] = null;
    server.active--;
    s[kIdle] = true;
    let list = this.idle.get(server);
    if (list === undefined) {
      list = [];
      this.idle.set(server, list);
    }
    if (this.closed || list.length >= this.opts.maxIdle || s.destroyed || !s.writable) {
      s.destroy();
      return;
    }
    s[kSince] = now;
    list.push(s);
    if (this.waiters.size !== 0) this.wake(server);
    // An idle connection must not keep the process alive.
    s.unref();
    if (this.sweeper === undefined) {
      // At most an eighth of the idle timeout late: an idle connection lives
      // well short of a server whose own keep-alive timeout is a little longer.
      this.sweeper = setInterval(sweepPool, Math.max(20, Math.floor(this.opts.idleTimeout / 8)), this);
      this.sweeper.unref();
    }
  }

  /** Closes the idle connections older than `idleTimeout` (the oldest are at the front of each list). */
  sweep(): void {
    const deadline = Date.now() - this.opts.idleTimeout;
    let left = 0;
    for (const list of this.idle.values()) {
      let n = 0;
      while (n < list.length && list[n]![kSince]! <= deadline) n++;
      if (n > 0) for (const s of list.splice(0, n)) s.destroy();
      left += list.length;
    }
    if (left === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** The connection cannot carry another request: close it. */
  discard(socket: net.Socket): void {
    const s = socket as Pooled;
    if (s[kIdle] === true) return;
    s[kUser] = null;
    s[kIdle] = true;
    s[kServer]!.active--;
    s.destroy();
  }

  /** A connection opened (or taken, `reused`) for a request that no longer wants it. */
  unwanted(socket: net.Socket, server: ServerState, reused: boolean): void {
    if (reused) {
      this.discard(socket);
    } else {
      socket.destroy();
      this.unadmit(server);
    }
  }

  /** Idle connections to `server` now. */
  idleCount(server: ServerState): number {
    return this.idle.get(server)?.length ?? 0;
  }

  /** Closes every idle connection; later releases close too. */
  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const list of this.idle.values()) for (const s of list.splice(0)) s.destroy();
  }

  /** A pooled connection of `server` closed: room for a waiter. */
  closedOne(server: ServerState): void {
    if (this.waiters.size !== 0) this.wake(server);
  }

  /** An idle connection went away or misbehaved. */
  dropIdle(s: Pooled): void {
    const list = this.idle.get(s[kServer]!);
    if (list !== undefined) {
      const i = list.indexOf(s);
      if (i !== -1) list.splice(i, 1);
    }
    s.destroy();
  }
}

/**
 * Pooled connections are read through `onread` into one buffer shared by all
 * of them, not as streams: a read then costs no buffer of its own and none of
 * the stream's work per chunk (push, 'data', a read-more tick). Each read is
 * copied out at its size (a slice of Node's buffer pool when small), so what
 * users get is theirs to keep, as a stream's chunk would be: the shared
 * buffer is read into again on the next read of any connection.
 */
const readBuffer = Buffer.allocUnsafe(65536);
const POOL_READ: net.OnReadOpts = { buffer: readBuffer, callback: onRead };

/** `this` is the socket (net calls it so); true: go on reading (users pause the socket themselves). */
function onRead(this: Pooled, n: number, buf: Uint8Array): boolean {
  const chunk = Buffer.allocUnsafe(n);
  chunk.set(n === buf.length ? buf : buf.subarray(0, n));
  // Not adopted yet: the stream keeps it, as it would have without `onread`, for the pool's 'data' handler.
  if (this[kPool] === undefined) this.push(chunk);
  else onData.call(this, chunk);
  return true;
}

function sweepPool(pool: UpstreamPool): void {
  pool.sweep();
}

function onData(this: Pooled, chunk: Buffer): void {
  const u = this[kUser];
  if (u) u.upstreamData(this, chunk);
  else this[kPool]!.dropIdle(this);
}
function onEnd(this: Pooled): void {
  const u = this[kUser];
  if (u) u.upstreamEnd(this);
  else this[kPool]!.dropIdle(this);
}
function onError(this: Pooled, err: Error): void {
  const u = this[kUser];
  if (u) u.upstreamError(this, err);
}
function onClose(this: Pooled): void {
  const u = this[kUser];
  const pool = this[kPool]!;
  this[kServer]!.pooled--;
  if (this[kIdle] === false) {
    this[kIdle] = true;
    this[kServer]!.active--;
  }
  this[kUser] = null;
  if (u) u.upstreamClose(this);
  else pool.dropIdle(this);
  pool.closedOne(this[kServer]!);
}
function onDrain(this: Pooled): void {
  this[kUser]?.upstreamDrain(this);
}


import type net from 'node:net';
import type { PoolUser } from '../upstream/pool.js';
import type { ServerState } from '../upstream/server.js';

const kUser = Symbol('upshift.upstream.user');
const kServer = Symbol('upshift.upstream.server');
type Tagged = net.Socket & { [kUser]?: PoolUser; [kServer]?: ServerState };

/**
 * Sends the events of an upstream socket that no pool owns (stream mode) to
 * `user`, and counts it among `server`'s active connections until it closes.
 * The handlers are module functions that find the user through a symbol on
 * the socket: no closures per connection on the hot path.
 */
export function listenToUpstream(socket: net.Socket, user: PoolUser, server: ServerState): void {
  const tagged = socket as Tagged;
  tagged[kUser] = user;
  tagged[kServer] = server;
  server.active++;
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('close', onClose);
  socket.on('drain', onDrain);
}

// `this` is the socket.
function onData(this: Tagged, chunk: Buffer): void { this[kUser]?.upstreamData(this, chunk); }
function onEnd(this: Tagged): void { this[kUser]?.upstreamEnd(this); }
function onError(this: Tagged, err: Error): void { this[kUser]?.upstreamError(this, err); }
function onClose(this: Tagged): void {
  const s = this[kServer];
  if (s !== undefined) {
    s.active--;
    this[kServer] = undefined;
  }
  this[kUser]?.upstreamClose(this);
}
function onDrain(this: Tagged): void { this[kUser]?.upstreamDrain(this); }

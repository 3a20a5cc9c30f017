import type net from 'node:net';
import type { PoolUser } from '../upstream/pool.js';
import type { ServerState } from '../upstream/server.js';

/**
 * Sends the events of an upstream socket that no pool owns (stream mode) to
 * `user`, and counts it among `server`'s active connections until it closes.
 * Through small closures, not a property on the socket (see `listenToClient`).
 */
export function listenToUpstream(socket: net.Socket, user: PoolUser, server: ServerState): void {
  server.active++;
  socket.on('data', (chunk: Buffer) => user.upstreamData(socket, chunk));
  socket.on('end', () => user.upstreamEnd(socket));
  socket.on('error', (err: Error) => user.upstreamError(socket, err));
  socket.on('close', () => {
    server.active--;
    user.upstreamClose(socket);
  });
  socket.on('drain', () => user.upstreamDrain(socket));
}

import type net from 'node:net';

/** What a connection does with its client socket's events (both modes). */
export interface ClientHandler {
  error: string | undefined;
  clientData(chunk: Buffer): void;
  clientEnd(): void;
  clientClose(): void;
  clientDrained(): void;
}

const kClient = Symbol('upshift.client');
type Tagged = net.Socket & { [kClient]?: ClientHandler };

/**
 * Sends a client socket's events to `handler`. The handlers are module
 * functions that find the connection through a symbol on the socket: no
 * closures per connection on the hot path.
 */
export function listenToClient(socket: net.Socket, handler: ClientHandler): void {
  (socket as Tagged)[kClient] = handler;
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('close', onClose);
  socket.on('drain', onDrain);
}

// `this` is the socket.
function onData(this: Tagged, chunk: Buffer): void { this[kClient]!.clientData(chunk); }
function onEnd(this: Tagged): void { this[kClient]!.clientEnd(); }
function onError(this: Tagged, err: Error): void {
  // The close that follows ends the connection; the first error is what it reports.
  const c = this[kClient]!;
  c.error ??= (err as NodeJS.ErrnoException).code ?? err.message;
}
function onClose(this: Tagged): void { this[kClient]!.clientClose(); }
function onDrain(this: Tagged): void { this[kClient]!.clientDrained(); }

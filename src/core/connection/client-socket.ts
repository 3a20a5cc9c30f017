import type net from 'node:net';

/** What a connection does with its client socket's events (both modes). */
export interface ClientHandler {
  error: string | undefined;
  clientData(chunk: Buffer): void;
  clientEnd(): void;
  clientClose(): void;
  clientDrained(): void;
}

/**
 * Sends a client socket's events to `handler`, through small closures.
 * Not through a property on the socket that module functions read: a
 * `net.Socket` given a property of ours changes its hidden class, and Node's
 * own stream code, which sees every socket, turns polymorphic (its
 * `_handle` getter, inlined for the pipe, showed up on its own in profiles).
 */
export function listenToClient(socket: net.Socket, handler: ClientHandler): void {
  socket.on('data', (chunk: Buffer) => handler.clientData(chunk));
  socket.on('end', () => handler.clientEnd());
  socket.on('error', (err: Error) => {
    // The close that follows ends the connection; the first error is what it reports.
    handler.error ??= (err as NodeJS.ErrnoException).code ?? err.message;
  });
  socket.on('close', () => handler.clientClose());
  socket.on('drain', () => handler.clientDrained());
}

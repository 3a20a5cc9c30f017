import type net from 'node:net';

/**
 * The byte pipe both modes end in: stream mode once the answer's head went
 * through (at once for non-HTTP bytes), http mode after a 101 to a WebSocket
 * upgrade. Nothing is parsed and nothing is buffered in user space.
 *
 * Invariants:
 * - Backpressure: a write that returns false pauses the other side; 'drain'
 *   resumes it.
 * - A FIN is passed on as a FIN. A close without one is passed on as a cut
 *   (`upstreamClosed`): the client must not take a cut answer for a whole one.
 */
export class Tunnel {
  /** The last bytes that moved were the client's (a request may be waiting for its answer). */
  awaiting = true;

  constructor(readonly client: net.Socket, readonly upstream: net.Socket) {}

  fromClient(chunk: Buffer): void {
    this.awaiting = true;
    if (!this.upstream.write(chunk)) this.client.pause();
  }

  fromUpstream(chunk: Buffer): void {
    this.awaiting = false;
    if (!this.client.write(chunk)) this.upstream.pause();
  }

  clientEnded(): void {
    this.upstream.end();
  }

  upstreamEnded(): void {
    this.client.end();
  }

  clientDrained(): void {
    this.upstream.resume();
  }

  upstreamDrained(): void {
    this.client.resume();
  }

  /** The upstream closed: without a FIN to pass on, the client is cut. */
  upstreamClosed(clientOpen: boolean): void {
    if (clientOpen && !this.upstream.readableEnded) this.client.destroy();
  }
}

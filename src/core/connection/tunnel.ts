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
/** Turns of the close loop (25 ms each) a tunnel must stay quiet before it counts as quiet. */
const QUIET_TURNS = 10;

export class Tunnel {
  /** The last bytes that moved were the client's (a request may be waiting for its answer). */
  awaiting = true;
  private lastTotal = -1;
  private turns = 0;

  constructor(readonly client: net.Socket, readonly upstream: net.Socket) {}

  /**
   * After a 101 to a WebSocket upgrade: the head (`head`) and the bytes that
   * followed it go to the client, the client's bytes sent after its request
   * (`early`: the new protocol's) to the server. Returns the bytes written to the client.
   */
  upgrade(head: Buffer, rest: Buffer | null, early: Buffer | null, clientEnded: boolean): number {
    const { client, upstream } = this;
    client.write(head);
    if (rest !== null) client.write(rest);
    if (early !== null) upstream.write(early);
    if (clientEnded) upstream.end();
    else client.resume();
    return head.length + (rest === null ? 0 : rest.length);
  }

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

  /**
   * Called on each turn of the proxy's close loop with the connection's byte
   * total: true once the last bytes that moved were the server's (its
   * answer) and nothing moved for `QUIET_TURNS` turns (~250 ms). So a
   * kept-alive client waiting for nothing is not held until the drain
   * deadline, a request still waiting for its answer keeps the tunnel, and
   * an answer that pauses longer than that mid-body is cut (as it would be
   * at the drain deadline).
   */
  quiet(total: number): boolean {
    if (this.awaiting) return false;
    if (total !== this.lastTotal) {
      this.lastTotal = total;
      this.turns = 0;
      return false;
    }
    return ++this.turns >= QUIET_TURNS;
  }

  /** The upstream closed: without a FIN to pass on, the client is cut. */
  upstreamClosed(clientOpen: boolean): void {
    if (clientOpen && !this.upstream.readableEnded) this.client.destroy();
  }
}

/**
 * What the proxy needs of a client connection, whatever its mode: one
 * registry type, no `instanceof`. Both `StreamConnection` and
 * `HttpConnection` implement it.
 */
export interface Connection {
  readonly id: number;
  /** Called by the proxy's sweep: the timeouts found by byte totals and clocks rather than timers. */
  sweep(now: number): void;
  /** Ends the connection now (drain deadline passed, or its version was removed). */
  destroy(): void;
  /** No request is in flight and none has started: safe to drop when the proxy closes. */
  readonly idleBeforeHead: boolean;
  /**
   * Called every few tens of milliseconds while the proxy closes: end the
   * connection once that cuts no answer (http mode does so after the answer
   * in flight by itself; stream mode when nothing moved since its last answer).
   */
  drain(now: number): void;
}

import type net from 'node:net';

/**
 * Stream mode: the client bytes not yet known to be answered. All of them
 * until the first connect (they are what gets sent), and afterwards, while
 * the request may be retried, a copy bounded by `limits.retryBuffer` so it
 * can be sent elsewhere. Dropped once the answer's head arrived.
 */
export class KeptRequest {
  /** The bytes kept, in order; null once they are not (answered, or too many). */
  chunks: Buffer[] | null = [];
  private bytes = 0;
  /** The request may be sent again (its method is idempotent, and it still fits). */
  retryable = false;

  constructor(private readonly limit: number) {}

  /** From here on these are the bytes kept. */
  set(first: Buffer): void {
    this.chunks = [first];
    this.bytes = first.length;
  }

  /** Keeps a client chunk; `must` when it was not sent anywhere yet. */
  keep(chunk: Buffer, must: boolean): void {
    if (this.chunks === null) return;
    if (!must && this.bytes + chunk.length > this.limit) {
      // Too much to replay: from here on a failure is answered, not retried.
      this.chunks = null;
      this.retryable = false;
      return;
    }
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** Every byte sent so far is kept: the request can go again from its first byte. */
  get replayable(): boolean {
    return this.retryable && this.chunks !== null;
  }

  /**
   * Writes what is kept to `socket` (several chunks in one corked batch; one,
   * the common case, as a plain write: cork and uncork would queue it and
   * flush it through the buffered path). Keeps it only if `retry` may need it.
   */
  send(socket: net.Socket, retry: boolean): void {
    const chunks = this.chunks!;
    if (chunks.length === 1) {
      socket.write(chunks[0]!);
    } else {
      socket.cork();
      for (const chunk of chunks) socket.write(chunk);
      socket.uncork();
    }
    if (!retry) this.chunks = null;
  }

  drop(): void {
    this.chunks = null;
  }
}

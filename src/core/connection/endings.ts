import type net from 'node:net';

/**
 * How a client connection ends, the same in both modes: the proxy's own
 * answer is written once, as the last bytes, and the connection lingers
 * (reading and dropping) until the client's FIN or `timeouts.linger`, so the
 * answer is not lost to a reset; a connection is cut (destroyed) rather than
 * ended when a FIN would pass a partial answer off as a whole one. Each
 * connection's `finish` runs once, after its sockets closed.
 */

/**
 * Writes `response` as the client connection's last bytes. `cut`: part of
 * another answer already went out, so the client is cut instead. True: the
 * answer is queued and the caller lingers.
 */
export function answerLast(client: net.Socket, clientOpen: boolean, response: Buffer, cut: boolean): boolean {
  if (!clientOpen) return false;
  if (cut || !client.writable) {
    client.destroy();
    return false;
  }
  client.end(response);
  // Keep reading (and dropping) so the client's FIN is seen; give up after the linger time.
  client.resume();
  return true;
}

/**
 * Ends a client connection whose answers are complete. `quiet`: no byte from
 * the client is unread or on its way. True: the caller lingers.
 */
export function endClient(client: net.Socket, clientOpen: boolean, quiet: boolean): boolean {
  if (!clientOpen) return false;
  if (quiet && client.writableLength === 0) {
    // Everything written is in the kernel and no byte from the client is
    // unread or on its way, so closing now sends the rest and a FIN (not a
    // reset): no shutdown, no waiting for the client's FIN.
    client.destroy();
    return false;
  }
  client.end();
  client.resume();
  return true;
}

/**
 * Idleness by byte totals seen at each sweep of the proxy: a sweep costs
 * nothing per chunk, where a socket timeout re-arms a timer on every read
 * and write.
 */
export class Activity {
  constructor(private lastTotal: number, private lastActive: number) {}

  /** True once `total` has not moved for `idle` milliseconds. */
  idle(total: number, now: number, idle: number): boolean {
    if (total !== this.lastTotal) {
      this.lastTotal = total;
      this.lastActive = now;
      return false;
    }
    return now - this.lastActive >= idle;
  }
}

/**
 * A client connection's deadlines, checked by the proxy's sweep (no timer
 * per connection): the head's, counted from `since` (when its reading
 * began), the linger's once `linger` was called, and idleness by byte totals.
 */
export class Deadlines {
  private readonly activity: Activity;
  private lingering = false;

  constructor(public since: number, idleTotal = -1) {
    this.activity = new Activity(idleTotal, since);
  }

  /** The connection lingers from `now` (its last answer is queued). */
  linger(now: number): void {
    this.lingering = true;
    this.since = now;
  }

  /** The head deadline passed. */
  head(now: number, ms: number): boolean {
    return now - this.since >= ms;
  }

  /** The linger time passed: true once. */
  lingered(now: number, ms: number): boolean {
    if (!this.lingering || now - this.since < ms) return false;
    this.lingering = false;
    return true;
  }

  /** `total` bytes have not moved for `ms`. */
  idle(total: number, now: number, ms: number): boolean {
    return this.activity.idle(total, now, ms);
  }
}

import type { Connection } from './connection.js';
import type { ClosedConnection } from './report.js';

/** What a slot stands for: a client connection, while it is open. */
export interface SlotTenant extends Connection, ClosedConnection {}

/**
 * A short-lived connection's stand-in in the proxy's registries (`conns`,
 * and its version's `open` through its `Attempt`), reused from one
 * connection to the next (stream mode).
 *
 * Why not the connection itself: those registries are Sets that live in
 * V8's old space, and an old Set that takes and drops young objects
 * thousands of times a second keeps them from dying young: its dropped hash
 * tables stay in old space until a full GC, and what they point at survives
 * every scavenge, so the whole object graph of a connection (its sockets,
 * their streams' state, its buffers) was promoted. A slot is old after its
 * first connection, so nothing young goes through the Sets; the one young
 * reference, `tenant`, is cleared when the connection leaves. The uws
 * engine's `RequestSlot` does the same for its requests.
 */
export class ConnectionSlot implements Connection, ClosedConnection {
  tenant: SlotTenant | null = null;

  constructor(private readonly pool: ConnectionSlots) {}

  get id(): number { return this.tenant?.id ?? 0; }
  get bytesIn(): number { return this.tenant?.bytesIn ?? 0; }
  get bytesOut(): number { return this.tenant?.bytesOut ?? 0; }
  get status(): number | undefined { return this.tenant?.status; }
  get error(): string | undefined { return this.tenant?.error; }

  sweep(now: number): void {
    this.tenant?.sweep(now);
  }

  destroy(): void {
    this.tenant?.destroy();
  }

  get idleBeforeHead(): boolean {
    return this.tenant?.idleBeforeHead ?? false;
  }

  drain(now: number): void {
    this.tenant?.drain(now);
  }

  /** The tenant left every registry (`conns`, its version's `open`): the slot may take the next connection. */
  release(): void {
    this.tenant = null;
    this.pool.give(this);
  }
}

/** The free slots: a connection takes one when it is accepted and releases it once it left every registry. */
export class ConnectionSlots {
  private readonly free: ConnectionSlot[] = [];

  take(): ConnectionSlot {
    return this.free.pop() ?? new ConnectionSlot(this);
  }

  /** At most as many are kept as were ever open at once (the high-water mark). */
  give(slot: ConnectionSlot): void {
    this.free.push(slot);
  }
}

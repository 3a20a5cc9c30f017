import type { Connection } from '../../connection/connection.js';
import type { ClosedConnection } from '../../connection/report.js';

/** What a slot stands for: a request of the uws engine, while it runs. */
export interface SlotTenant extends ClosedConnection {
  sweep(now: number): void;
  destroy(): void;
}

/**
 * A request's stand-in in the proxy's registries (`conns`, and its
 * version's `open` through its `Attempt`), reused from one request to the
 * next.
 *
 * Why not the request itself: those registries are Sets that live in V8's
 * old space, and an old Set that takes and drops young objects thousands of
 * times a second keeps them from dying young. Its dropped hash tables stay
 * in old space until a full GC, and what they point at survives every
 * scavenge: the whole object graph of nearly every request was promoted
 * (2-4 MB per scavenge at 50 keep-alive connections, a full GC every
 * second, GC ~11% of the CPU). http mode puts its connection, which lives
 * long, in the same Sets and never saw this. A slot is old after its first
 * request, so nothing young goes through the Sets.
 */
export class RequestSlot implements Connection, ClosedConnection {
  tenant: SlotTenant | null = null;

  get id(): number { return this.tenant?.id ?? 0; }
  get bytesIn(): number { return this.tenant?.bytesIn ?? 0; }
  get bytesOut(): number { return this.tenant?.bytesOut ?? 0; }
  get status(): number | undefined { return this.tenant?.status; }
  get error(): string | undefined { return this.tenant?.error; }

  sweep(now: number): void {
    this.tenant?.sweep(now);
  }

  /** Ends the request now (its version was removed, or the drain deadline passed). */
  destroy(): void {
    this.tenant?.destroy();
  }

  /** A request is in flight whenever the slot is taken. */
  get idleBeforeHead(): boolean {
    return false;
  }

  drain(): void {}
}

/** The free slots: a request takes one when it starts and gives it back once it left every registry. */
export class Slots {
  private readonly free: RequestSlot[] = [];

  take(tenant: SlotTenant): RequestSlot {
    const slot = this.free.pop() ?? new RequestSlot();
    slot.tenant = tenant;
    return slot;
  }

  give(slot: RequestSlot): void {
    slot.tenant = null;
    // At most as many as ever ran at once are kept (the high-water mark of requests in flight).
    this.free.push(slot);
  }
}

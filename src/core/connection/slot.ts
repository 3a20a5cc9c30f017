import type { Connection } from './connection.js';
import type { ClosedConnection } from './report.js';

/**
 * What a slot stands for while it is taken: a stream-mode client
 * connection, or a request of the uws engine (which has no connection
 * object of its own). Those have no request head to wait for nor answer to
 * drain, so `idleBeforeHead` and `drain` are optional: absent, the tenant is
 * busy whenever it holds a slot, and ends after its answer by itself.
 */
export interface SlotTenant extends ClosedConnection {
  sweep(now: number): void;
  destroy(): void;
  readonly idleBeforeHead?: boolean;
  drain?(now: number): void;
}

/**
 * A short-lived tenant's stand-in in the proxy's registries (`conns`, and
 * its version's `open` through its `Attempt`), reused from one tenant to the
 * next.
 *
 * Why not the tenant itself: those registries are Sets that live in V8's
 * old space, and an old Set that takes and drops young objects thousands of
 * times a second keeps them from dying young: its dropped hash tables stay
 * in old space until a full GC, and what they point at survives every
 * scavenge, so the whole object graph of a connection or request (its
 * sockets, their streams' state, its buffers) was promoted (for uws
 * requests: 2-4 MB per scavenge at 50 keep-alive connections, a full GC
 * every second). A slot is old after its first tenant, so nothing young goes
 * through the Sets; the one young reference, `tenant`, is cleared when the
 * tenant leaves. http mode puts its connection, which lives long, in the
 * same Sets and needs none.
 */
export class Slot implements Connection, ClosedConnection {
  tenant: SlotTenant | null = null;

  constructor(private readonly slots: Slots) {}

  get id(): number { return this.tenant?.id ?? 0; }
  get bytesIn(): number { return this.tenant?.bytesIn ?? 0; }
  get bytesOut(): number { return this.tenant?.bytesOut ?? 0; }
  get status(): number | undefined { return this.tenant?.status; }
  get error(): string | undefined { return this.tenant?.error; }

  sweep(now: number): void {
    this.tenant?.sweep(now);
  }

  /** Ends the tenant now (its version was removed, or the drain deadline passed). */
  destroy(): void {
    this.tenant?.destroy();
  }

  get idleBeforeHead(): boolean {
    return this.tenant?.idleBeforeHead ?? false;
  }

  drain(now: number): void {
    this.tenant?.drain?.(now);
  }

  /** The tenant left every registry (`conns`, its version's `open`): the slot may take the next one. */
  release(): void {
    this.tenant = null;
    this.slots.give(this);
  }
}

/** The free slots: a tenant takes one when it starts and releases it once it left every registry. */
export class Slots {
  private readonly free: Slot[] = [];

  take(tenant: SlotTenant): Slot {
    const slot = this.free.pop() ?? new Slot(this);
    slot.tenant = tenant;
    return slot;
  }

  /** At most as many are kept as were ever taken at once (the high-water mark). */
  give(slot: Slot): void {
    this.free.push(slot);
  }
}

import type { Lease } from 'etcd3';
import type { Logger } from 'pino';
import type { EtcdClient } from './etcd.js';
import type { Keys } from './keys.js';
import type { HostRecord } from './types.js';

/** A host's lease (s): a host that stops refreshing it is gone from the store after this long. */
const LEASE_TTL = 3;
/** How often a host refreshes its record (ms). */
const PUBLISH_EVERY = 1000;
/** A record not refreshed for this long is a host gone silent (ms). */
const SILENT_AFTER = 3000;
/** A host gone from the store is still shown as silent for this long (ms). */
const FORGET_AFTER = 10 * 60_000;
/** How long a host that stops may take to say it leaves (ms): a stop is not held up by an etcd that is away. */
const LEAVE_WAIT = 1500;

/** One host as `GET /status` shows it under `fleet.hosts`. */
export interface FleetHost extends HostRecord {
  /** This sidecar. */
  self: boolean;
  /** Its record has not been refreshed for `SILENT_AFTER` ms, or its lease ran out. */
  silent: boolean;
  /** Whether it applied the routing revision this host knows. */
  converged: boolean;
}

export interface FleetStatus {
  /** The routing revision this host applied. */
  revision: number;
  /** Every host that is not silent applied that revision. */
  converged: boolean;
  hosts: FleetHost[];
  /** Ids of the hosts gone silent. */
  silent: string[];
}

/**
 * The hosts sharing one routing: this host's own record, written under
 * `<prefix>hosts/<id>` with a lease and refreshed every second, and every
 * host's record as the watch delivers them.
 */
export class Fleet {
  private readonly hosts = new Map<string, { record: HostRecord; goneAt?: number }>();
  private lease: Lease | undefined;
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly client: EtcdClient,
    private readonly keys: Keys,
    private readonly hostId: string,
    private readonly describe: () => HostRecord,
    private readonly log: Logger,
  ) {}

  /** Publishes this host now and every `PUBLISH_EVERY` ms. */
  start(): void {
    this.timer = setInterval(() => this.publish(), PUBLISH_EVERY);
    this.timer.unref();
    this.publish();
  }

  /** Writes this host's record (coalesced: one write at a time, the latest state). */
  publish(): void {
    // Not before `start`: the record names addresses that are not known yet.
    if (this.closed || this.timer === undefined) return;
    if (this.publishing !== undefined) {
      this.again = true;
      return;
    }
    this.publishing = this.write(this.describe()).finally(() => {
      this.publishing = undefined;
      if (this.again) {
        this.again = false;
        this.publish();
      }
    });
  }

  private async write(record: HostRecord): Promise<void> {
    try {
      if (this.lease === undefined) {
        const lease = this.client.lease(LEASE_TTL);
        // A lost lease (etcd away longer than its TTL) is replaced on the next write.
        lease.on('lost', () => {
          if (this.lease === lease) this.lease = undefined;
        });
        this.lease = lease;
      }
      await this.lease.put(this.keys.host(this.hostId)).value(JSON.stringify(record)).exec();
    } catch (err) {
      // etcd away: the store says so; the record is written again once it returns.
      this.lease = undefined;
      this.log.debug({ event: 'fleet', err: (err as Error).message }, `cannot publish this host: ${(err as Error).message}`);
    }
  }

  /** Host records from the watch (`value` undefined: the lease ran out; `left` set: the host stopped cleanly), or a whole new listing. */
  onHosts(changes: Array<{ id: string; value: string | undefined }>, reset: boolean): void {
    const now = Date.now();
    if (reset) {
      const listed = new Set(changes.map((c) => c.id));
      for (const [id, h] of this.hosts) if (!listed.has(id) && h.goneAt === undefined) h.goneAt = now;
    }
    for (const { id, value } of changes) {
      if (value === undefined) {
        const h = this.hosts.get(id);
        if (h !== undefined) h.goneAt = now;
        continue;
      }
      try {
        const record = JSON.parse(value) as HostRecord;
        // A host that stopped is no longer part of the fleet: not a silent one to watch for.
        if (record.left !== undefined) this.hosts.delete(id);
        else this.hosts.set(id, { record });
      } catch {
        this.log.warn({ event: 'fleet', host: id }, `ignoring the unreadable record of host ${id}`);
      }
    }
    for (const [id, h] of this.hosts) if (h.goneAt !== undefined && now - h.goneAt > FORGET_AFTER) this.hosts.delete(id);
  }

  /** The fleet as this host sees it; its own record is always its current state. */
  status(revision: number): FleetStatus {
    const now = Date.now();
    const all = new Map(this.hosts);
    all.set(this.hostId, { record: this.describe() });
    const hosts = [...all.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, h]): FleetHost => {
      const self = id === this.hostId;
      const silent = !self && (h.goneAt !== undefined || now - Date.parse(h.record.at) > SILENT_AFTER);
      return { ...h.record, id, self, silent, converged: h.record.revision === revision };
    });
    return { revision, converged: hosts.every((h) => h.silent || h.converged), hosts, silent: hosts.filter((h) => h.silent).map((h) => h.id) };
  }

  /**
   * Stops publishing and leaves the fleet at once: a last record saying it
   * left (so the other hosts drop it instead of showing it silent), then
   * the lease revoked. Waits at most `LEAVE_WAIT` ms; a host that could not
   * say so ages out as a killed one does.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    const started = this.timer !== undefined;
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    const lease = this.lease;
    this.lease = undefined;
    if (!started || lease === undefined) return;
    const leave = async (): Promise<void> => {
      // After the write in flight: a refresh landing after the last record would bring the host back.
      await this.publishing;
      const record = { ...this.describe(), left: new Date().toISOString() };
      await lease.put(this.keys.host(this.hostId)).value(JSON.stringify(record)).exec();
      await lease.revoke();
    };
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      leave().catch((err: Error) => this.log.debug({ event: 'fleet', err: err.message }, `cannot say this host leaves: ${err.message}`)),
      new Promise((r) => { timer = setTimeout(r, LEAVE_WAIT); }),
    ]);
    clearTimeout(timer);
    // Revoked, or given up: either way the client stops keeping it alive.
    lease.release();
  }
}

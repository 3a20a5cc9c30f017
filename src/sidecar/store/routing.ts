import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { VersionStatus } from '../../core/index.js';
import { StoreConflictError, StoreUnavailableError } from '../errors.js';
import type { StateStore, StoredCluster } from '../store.js';
import type { ApplyTarget } from './apply.js';
import { Contributions } from './contributions.js';
import { Fleet, type FleetStatus } from './fleet.js';
import { SharedStore, type ServedFrom, type StoreState } from './shared.js';
import type { RemoveReason } from './keys.js';
import type { EtcdConfig, HostRecord } from './types.js';

/** What the shared routing needs of the sidecar: applying versions, and this host's own view for its record. */
export interface SharedHost extends ApplyTarget {
  describe(): Pick<HostRecord, 'addresses' | 'versions'>;
}

/** `fleet` in `GET /status`: the store's state as this host sees it, and every host. */
export interface SharedStatus extends FleetStatus {
  store: { kind: 'etcd'; endpoints: string[]; prefix: string; state: StoreState; since: string; error?: string; field?: string; servedFrom: ServedFrom };
  self: string;
}

/** How often a change this host decided is tried again while etcd is away, at most (ms). */
const UNCOMMITTED_RETRY = 5000;

/** This host's own part of its record, from its proxy's status. */
export function hostRecord(proxy: { host: string; port: number }, api: { host: string; port: number }, versions: VersionStatus[], launchOf: (uuid: string) => string | undefined): Pick<HostRecord, 'addresses' | 'versions'> {
  return {
    addresses: { proxy: `${proxy.host}:${proxy.port}`, api: `${api.host}:${api.port}` },
    versions: versions.map((v) => {
      const launch = launchOf(v.uuid);
      return { uuid: v.uuid, version: v.version, state: v.state, share: v.share, serversUp: v.servers.filter((x) => x.healthy).length, servers: v.servers.length, ...(launch !== undefined ? { launch } : {}) };
    }),
  };
}

/** A host's id in the fleet: the config's `sidecarId`, else `UPSHIFT_SIDECAR_ID`, else the machine's name. */
export function hostIdOf(sidecarId: string | undefined): string {
  return sidecarId ?? process.env['UPSHIFT_SIDECAR_ID'] ?? hostname();
}

/**
 * One routing shared by many sidecars through etcd: the versions (see
 * `SharedStore`), this host's record among the fleet (`Fleet`), and what
 * its traffic adds (`Contributions`). Created by the sidecar when the
 * config has `store.etcd`.
 */
export class SharedRouting {
  readonly store: SharedStore;
  private readonly fleet: Fleet;
  private contributions: Contributions | undefined;
  private host: SharedHost | undefined;
  /** Changes waiting for etcd to return (see `untilCommitted`). */
  private waiting: Array<(go: boolean) => void> = [];
  private closed = false;

  constructor(private readonly config: EtcdConfig, readonly hostId: string, private readonly log: Logger, cache: StateStore | undefined) {
    this.store = new SharedStore({ config, hostId, log, cache, onHosts: (changes, reset) => this.fleet.onHosts(changes, reset) });
    this.fleet = new Fleet(this.store.client, this.store.keys, hostId, () => this.record(), log.child({ component: 'fleet' }));
    this.store.onConfigRevision(() => this.fleet.publish());
    this.store.onReconnect(() => this.fleet.publish());
    this.store.onReconnect(() => this.wake(true));
  }

  private wake(go: boolean): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w(go);
  }

  /**
   * Runs a change this host decided by itself (a retirement), which no
   * caller is there to retry: again at once after a conflict (a few times),
   * and again once etcd is reachable when it was not.
   */
  async untilCommitted<T>(change: () => Promise<T>): Promise<T> {
    for (let conflicts = 0, waits = 0; ; ) {
      try {
        return await change();
      } catch (err) {
        if (err instanceof StoreConflictError && ++conflicts < 4) continue;
        if (!(err instanceof StoreUnavailableError) || this.closed) throw err;
        if (waits++ === 0) this.log.info({ event: 'store', err: err.reason }, 'etcd is away: a change this host decided waits for it to return');
        // On its return, or after a while anyway: a call can fail while the watch never noticed an outage.
        const go = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), UNCOMMITTED_RETRY);
          timer.unref();
          this.waiting.push((g) => { clearTimeout(timer); resolve(g); });
        });
        if (!go) throw err;
      }
    }
  }

  private record(): HostRecord {
    const own = this.host?.describe() ?? { addresses: { proxy: '', api: '' }, versions: [] };
    return { id: this.hostId, revision: this.store.configRevision, ...own, at: new Date().toISOString() };
  }

  /** Loads and applies the shared versions (seeding an empty routing with `seed()`); see `SharedStore.start`. */
  async start(host: SharedHost, seed: () => StoredCluster[]): Promise<void> {
    this.host = host;
    await this.store.start(host, seed);
    this.contributions = new Contributions(host.proxy, this.store, this.log);
  }

  /** Starts publishing this host (once its addresses are known). */
  announce(): void {
    this.fleet.start();
  }

  /** Commits a REST change; see `SharedStore.commit`. */
  commit(current: StoredCluster[], next: StoredCluster[], reason?: RemoveReason): Promise<void> {
    return this.store.commit(current, next, reason);
  }

  status(): SharedStatus {
    const s = this.store;
    return {
      self: this.hostId,
      store: {
        kind: 'etcd', endpoints: this.config.endpoints, prefix: this.config.prefix, state: s.state, since: s.stateSince,
        ...(s.lastError !== undefined ? { error: s.lastError } : {}), ...(s.failure !== undefined && s.failure.field !== 'store.etcd' ? { field: s.failure.field } : {}),
        servedFrom: s.servedFrom,
      },
      ...this.fleet.status(s.configRevision),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake(false);
    this.contributions?.close();
    await this.fleet.close();
    await this.store.close();
  }
}

import type { Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { VersionExistsError } from '../../core/index.js';
import { StoreConflictError, StoreUnavailableError } from '../errors.js';
import type { StateStore, StoredCluster } from '../store.js';
import { applyStored, canonical, newestFirst, type ApplyTarget, type Held } from './apply.js';
import { EtcdClient, type StoredKey, type Txn } from './etcd.js';
import { changedValue, Keys, removalsIn, type RemoveReason } from './keys.js';
import type { EtcdConfig } from './types.js';
import { isObject } from '../../core/given.js';

export type StoreState = 'connecting' | 'connected' | 'unreachable';
/** Where the versions this host routes came from: the store, the cache of the last applied ones (store unreachable at start), or the config (neither). */
export type ServedFrom = 'etcd' | 'cache' | 'config';

/** How long a writer waits for its own watch to apply its change before it answers anyway (ms). */
const APPLY_WAIT = 5000;
const BACKOFF_MIN = 250;
const BACKOFF_MAX = 5000;
/** Cache writes are coalesced: a growing GRADUAL share changes the versions many times a second (ms). */
const CACHE_DELAY = 200;

export interface SharedStoreOptions {
  config: EtcdConfig;
  /** This sidecar's id: named in the decisions it writes. */
  hostId: string;
  log: Logger;
  /** Where the last applied versions are kept for a start while etcd is unreachable. */
  cache: StateStore | undefined;
  /** A host record under `<prefix>hosts/` changed (`value` undefined: gone), or all of them were listed anew. */
  onHosts(changes: Array<{ id: string; value: string | undefined }>, reset: boolean): void;
}

/**
 * The versions many sidecars share, in etcd. One path for every change:
 * a writer commits to etcd in a guarded transaction and waits; every host,
 * the writer included, applies what its watch delivers. At start it lists
 * everything and watches from the next revision; a watch that cannot go on
 * (compacted, canceled) is replaced by a new listing and a new watch. When
 * etcd is away the host keeps routing what it applied last (also cached on
 * disk), writes fail with `StoreUnavailableError`, and it reconnects with
 * backoff, catching up on return.
 */
export class SharedStore {
  readonly keys: Keys;
  readonly client: EtcdClient;
  readonly hostId: string;
  private readonly held = new Map<string, Held>();
  private readonly log: Logger;
  private target: ApplyTarget | undefined;
  private seed: () => StoredCluster[] = () => [];
  private watcher: Watcher | undefined;
  /** The routing's revision this host applied last (the `changed` key's). */
  configRevision = 0;
  /** The last store revision this host has seen (any key). */
  private revision = 0;
  private waiters: Array<{ revision: number; done: () => void }> = [];
  state: StoreState = 'connecting';
  stateSince = new Date().toISOString();
  lastError: string | undefined;
  /** Why etcd cannot be used now: what a change is refused with (its `field` names the config at fault, when one is). */
  failure: StoreUnavailableError | undefined;
  servedFrom: ServedFrom = 'etcd';
  /** Set while the store's versions are applied: the proxy events this causes are not new decisions. */
  applying = false;
  private readonly reconnected: Array<() => void> = [];
  private readonly configChanged: Array<() => void> = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private cacheTimer: NodeJS.Timeout | undefined;
  private backoff = BACKOFF_MIN;
  private closed = false;

  constructor(private readonly opts: SharedStoreOptions) {
    this.keys = new Keys(opts.config.prefix);
    this.client = new EtcdClient(opts.config);
    this.hostId = opts.hostId;
    this.log = opts.log.child({ component: 'store' });
  }

  /** Calls `fn` each time etcd is reachable again (to write what was decided meanwhile). */
  onReconnect(fn: () => void): void {
    this.reconnected.push(fn);
  }

  /** Calls `fn` each time this host applies a new routing revision. */
  onConfigRevision(fn: () => void): void {
    this.configChanged.push(fn);
  }

  /** The versions as this host holds them, newest first. */
  entries(): Held[] {
    return newestFirst(this.held.values());
  }

  get(uuid: string): Held | undefined {
    return this.held.get(uuid);
  }

  /**
   * Loads and applies the shared versions; an empty routing is seeded with
   * `seed()` (the config's versions) by the first host to start. With etcd
   * unreachable, applies the cache (else the seed) and reconnects in the background.
   */
  async start(target: ApplyTarget, seed: () => StoredCluster[]): Promise<void> {
    this.target = target;
    this.seed = seed;
    try {
      await this.connect();
      return;
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      this.unreachable(await this.client.diagnose(err));
    }
    const cached = await this.opts.cache?.load();
    const list = cached ?? seed();
    this.servedFrom = cached !== undefined ? 'cache' : 'config';
    this.held.clear();
    list.forEach((entry, i) => this.held.set(entry.uuid, { entry, createRevision: list.length - i, modRevision: 0 }));
    this.apply();
    this.log.warn({ event: 'store', servedFrom: this.servedFrom, versions: list.length }, `etcd is unreachable at start: routing ${list.length} version(s) from the ${this.servedFrom === 'cache' ? `cache ${this.opts.cache!.file}` : 'config'} until it returns`);
    this.retryLater();
  }

  private async connect(): Promise<void> {
    let listing = await this.client.list(this.keys.prefix);
    if (!listing.kvs.some((kv) => kv.key === this.keys.seeded)) {
      const seeded = await this.seedWith(this.seed());
      if (seeded) this.log.info({ event: 'store', prefix: this.keys.prefix }, `seeded ${this.keys.prefix} with the config's versions`);
      listing = await this.client.list(this.keys.prefix);
    }
    this.load(listing.revision, listing.kvs);
    this.watch(listing.revision + 1);
    this.reachable();
  }

  /** Writes the config's versions, unless another host seeded first. */
  private async seedWith(list: StoredCluster[]): Promise<boolean> {
    const now = new Date().toISOString();
    const res = await this.client.txn({
      compare: [{ key: this.keys.seeded, target: 'Create', value: 0 }],
      put: [{ key: this.keys.seeded, value: now }, { key: this.keys.changed, value: changedValue() }, ...[...list].reverse().map((e) => ({ key: this.keys.version(e.uuid), value: JSON.stringify(e) }))],
    });
    return res.succeeded;
  }

  private load(revision: number, kvs: StoredKey[]): void {
    this.held.clear();
    const hosts: Array<{ id: string; value: string }> = [];
    let removals = new Map<string, RemoveReason>();
    for (const kv of kvs) {
      if (kv.key.startsWith(this.keys.versions)) this.hold(kv);
      else if (kv.key.startsWith(this.keys.hosts)) hosts.push({ id: kv.key.slice(this.keys.hosts.length), value: kv.value });
      else if (kv.key === this.keys.changed) {
        this.configRevision = kv.modRevision;
        removals = removalsIn(kv.value);
      }
    }
    this.servedFrom = 'etcd';
    this.opts.onHosts(hosts, true);
    this.apply(removals);
    this.advance(revision);
    for (const fn of this.configChanged) fn();
  }

  private hold(kv: StoredKey): void {
    const uuid = kv.key.slice(this.keys.versions.length);
    try {
      const entry = JSON.parse(kv.value) as unknown;
      if (!isObject(entry) || entry['uuid'] !== uuid || typeof entry['version'] !== 'string') throw new Error('not a version entry');
      this.held.set(uuid, { entry: entry as StoredCluster, createRevision: kv.createRevision, modRevision: kv.modRevision });
    } catch (err) {
      this.log.error({ event: 'store', key: kv.key, err: (err as Error).message }, `ignoring ${kv.key}: ${(err as Error).message}`);
    }
  }

  private watch(from: number): void {
    void this.watcher?.cancel().catch(() => {});
    this.watcher = this.client.watch(this.keys.prefix, from, {
      changes: (revision, events) => this.onChanges(revision, events),
      broken: (err) => {
        if (this.closed) return;
        // etcd cancels a watch whose start revision was compacted away (and says why only in a revision number).
        this.log.warn({ event: 'store', err: err.message }, `the etcd watch cannot resume (${err.message.replace(/:\s*$/, '')}: compacted past its revision, or canceled by etcd): listing everything again`);
        this.watcher = undefined;
        this.relist();
      },
      disconnected: (err) => this.unreachable(this.client.unavailable(err)),
      connected: () => this.reachable(),
    });
  }

  private onChanges(revision: number, events: Array<{ type: 'put' | 'delete'; kv: StoredKey }>): void {
    let versions = false;
    let configRevision = this.configRevision;
    const removals = new Map<string, RemoveReason>();
    const hosts: Array<{ id: string; value: string | undefined }> = [];
    for (const { type, kv } of events) {
      if (kv.key.startsWith(this.keys.versions)) {
        versions = true;
        if (type === 'put') this.hold(kv);
        else this.held.delete(kv.key.slice(this.keys.versions.length));
      } else if (kv.key.startsWith(this.keys.hosts)) {
        hosts.push({ id: kv.key.slice(this.keys.hosts.length), value: type === 'put' ? kv.value : undefined });
      } else if (kv.key === this.keys.changed && type === 'put') {
        configRevision = kv.modRevision;
        for (const [uuid, reason] of removalsIn(kv.value)) removals.set(uuid, reason);
      }
    }
    if (hosts.length > 0) this.opts.onHosts(hosts, false);
    if (versions) this.apply(removals);
    this.advance(revision);
    if (configRevision !== this.configRevision) {
      this.configRevision = configRevision;
      for (const fn of this.configChanged) fn();
    }
  }

  /** Routes what the store holds; `removals` are the reasons given for versions removed (else `api`). */
  private apply(removals?: ReadonlyMap<string, RemoveReason>): void {
    if (this.target === undefined) return;
    this.applying = true;
    try {
      applyStored(this.target, this.entries(), (uuid, err) => this.log.error({ event: 'store', uuid, err: err.message }, `version ${uuid} cannot be applied here: ${err.message}`), removals);
    } finally {
      this.applying = false;
    }
    this.saveCache();
  }

  private advance(revision: number): void {
    if (revision > this.revision) this.revision = revision;
    const ready = this.waiters.filter((w) => w.revision <= this.revision);
    this.waiters = this.waiters.filter((w) => w.revision > this.revision);
    for (const w of ready) w.done();
  }

  /** Resolves once this host's watch has applied `revision` (or after `APPLY_WAIT`: the change is committed either way). */
  private applied(revision: number): Promise<void> {
    if (revision <= this.revision) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, APPLY_WAIT).unref();
      this.waiters.push({ revision, done: () => { clearTimeout(timer); resolve(); } });
    });
  }

  private saveCache(): void {
    if (this.opts.cache === undefined || this.servedFrom !== 'etcd' || this.cacheTimer !== undefined) return;
    this.cacheTimer = setTimeout(() => {
      this.cacheTimer = undefined;
      const list = this.entries().map((h) => h.entry);
      this.opts.cache!.save(() => list).catch((err: Error) => this.log.warn({ event: 'store', err: err.message }, `cannot cache the versions in ${this.opts.cache!.file}: ${err.message}`));
    }, CACHE_DELAY);
    this.cacheTimer.unref();
  }

  private unreachable(e: StoreUnavailableError): void {
    const was = this.failure;
    this.lastError = e.reason;
    this.failure = e;
    if (this.closed) return;
    // A fault named by field (a password, a CA) is the operator's to fix: said as an error, once per cause.
    const named = e.field !== 'store.etcd';
    if (named && (this.state !== 'unreachable' || was?.reason !== e.reason)) {
      this.log.error({ event: 'store', state: 'unreachable', field: e.field, err: e.reason }, `etcd cannot be used: ${e.reason}; serving the last applied versions, changes answer 503 until it is fixed`);
    } else if (!named && this.state !== 'unreachable') {
      this.log.warn({ event: 'store', state: 'unreachable', err: e.reason }, `etcd is unreachable (${e.reason}): serving the last applied versions, changes answer 503 until it returns`);
    }
    if (this.state === 'unreachable') return;
    this.state = 'unreachable';
    this.stateSince = new Date().toISOString();
  }

  private reachable(): void {
    this.backoff = BACKOFF_MIN;
    if (this.state === 'connected' || this.closed) return;
    const was = this.state;
    this.state = 'connected';
    this.stateSince = new Date().toISOString();
    this.lastError = undefined;
    this.failure = undefined;
    if (was === 'unreachable') this.log.info({ event: 'store', state: 'connected', revision: this.configRevision }, 'etcd is reachable again: caught up');
    for (const fn of this.reconnected) fn();
  }

  /** Lists everything again and watches anew; on failure, tries again with backoff. */
  private relist(): void {
    if (this.closed) return;
    this.connect().catch(async (err: unknown) => {
      this.unreachable(await this.client.diagnose(err));
      this.retryLater();
    });
  }

  private retryLater(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.relist();
    }, this.backoff);
    this.retryTimer.unref();
    this.backoff = Math.min(BACKOFF_MAX, this.backoff * 2);
  }

  /** A rolled-back standing that this host decides now names it in its evidence. */
  private stamp(e: StoredCluster, before: StoredCluster | undefined): StoredCluster {
    const s = e['standing'];
    if (!isObject(s) || s['state'] !== 'rolled-back') return e;
    const was = before?.['standing'];
    if (isObject(was) && was['state'] === 'rolled-back') return e;
    const evidence = isObject(s['evidence']) ? s['evidence'] : {};
    if (evidence['host'] !== undefined) return e;
    return { ...e, standing: { ...s, evidence: { ...evidence, host: this.hostId } } };
  }

  /**
   * Commits the versions `current` → `next` (what a REST change leads to):
   * each version that differs is written only if the store still holds the
   * revision of it this host applied (a new one only if its uuid is free),
   * so a change made from a stale view is refused, never lost. Resolves once
   * this host applied it. `reason` is why the versions it removes go (every
   * host removes them for it). Throws `StoreUnavailableError`,
   * `VersionExistsError` or `StoreConflictError`.
   */
  async commit(current: StoredCluster[], next: StoredCluster[], reason: RemoveReason = 'api'): Promise<void> {
    const before = new Map(current.map((e) => [e.uuid, canonical(e)]));
    const txn: Required<Txn> = { compare: [], put: [], delete: [] };
    let created: string | undefined;
    for (const e of next) {
      if (before.get(e.uuid) === canonical(e)) continue;
      const h = this.held.get(e.uuid);
      const key = this.keys.version(e.uuid);
      if (h === undefined) created = e.uuid;
      txn.compare.push(h === undefined ? { key, target: 'Create', value: 0 } : { key, target: 'Mod', value: h.modRevision });
      txn.put.push({ key, value: JSON.stringify(this.stamp(e, h?.entry)) });
    }
    const kept = new Set(next.map((e) => e.uuid));
    for (const e of current) {
      const h = this.held.get(e.uuid);
      if (kept.has(e.uuid) || h === undefined) continue;
      txn.compare.push({ key: this.keys.version(e.uuid), target: 'Mod', value: h.modRevision });
      txn.delete.push(this.keys.version(e.uuid));
    }
    if (txn.compare.length === 0) return;
    if (this.servedFrom !== 'etcd') throw this.failure ?? new StoreUnavailableError(this.opts.config.endpoints, 'not connected yet');
    txn.put.push({ key: this.keys.changed, value: changedValue(new Map(txn.delete.map((k) => [k.slice(this.keys.versions.length), reason]))) });
    const res = await this.client.txn(txn);
    if (!res.succeeded) {
      if (created !== undefined) throw new VersionExistsError(created);
      throw new StoreConflictError(txn.compare[0]!.key.slice(this.keys.versions.length));
    }
    await this.applied(res.revision);
  }

  /**
   * Read-modify-write of one version, for changes that must not be refused
   * (a verdict, share points): `fn` gets the entry as held and returns the
   * new one (undefined: nothing to write); on a conflict it runs again on
   * the newer entry. Resolves false when the version is gone or the
   * conflicts did not end. Throws `StoreUnavailableError`.
   */
  async update(uuid: string, fn: (e: StoredCluster) => StoredCluster | undefined): Promise<boolean> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const h = this.held.get(uuid);
      if (h === undefined) return false;
      const next = fn(h.entry);
      if (next === undefined) return true;
      if (this.servedFrom !== 'etcd') throw this.failure ?? new StoreUnavailableError(this.opts.config.endpoints, 'not connected yet');
      const key = this.keys.version(uuid);
      const res = await this.client.txn({
        compare: [{ key, target: 'Mod', value: h.modRevision }],
        put: [{ key, value: JSON.stringify(next) }, { key: this.keys.changed, value: changedValue() }],
      });
      // Either way the store is at res.revision: once the watch is there, the held entry is current.
      await this.applied(res.revision);
      if (res.succeeded) return true;
    }
    return false;
  }

  /** Stops watching and closes the client; the versions stay as they are. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.cacheTimer);
    for (const w of this.waiters) w.done();
    await this.watcher?.cancel().catch(() => {});
    this.client.close();
  }
}

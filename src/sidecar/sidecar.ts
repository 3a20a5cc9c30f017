import type { DestinationStream, Logger } from 'pino';
import {
  createProxy, InvalidVersionError, patchVersion, toClusterJSON, validateVersion, VersionExistsError, VersionNotFoundError,
  type ClusterJSON, type Proxy, type ProxyStatus, type VersionStatus,
} from '../core/index.js';
import { withActiveHealth } from './active-health.js';
import { ConfigApi } from './api.js';
import type { ClusterService, ClusterView, LaunchInfo } from './cluster-service.js';
import { parseConfig, type SidecarConfig } from './config.js';
import { validateContainers } from './docker/spec.js';
import { ConfigError, StateFileError } from './errors.js';
import type { Launcher } from './launcher.js';
import { createLogger, logProxyEvents, type LogFormat } from './logging.js';
import { Changes, storedFromConfig, toStored, withVersion } from './changes.js';
import { warnIfUnauthenticated } from './exposure.js';
import { Launches, newLaunchId } from './launches.js';
import { Metrics } from './metrics.js';
import { redact } from './redact.js';
import { RecentEvents, type RecentEvent } from './recent-events.js';
import { judgeVersion, persistVerdicts, restoreStanding, withStanding, type JudgeAction } from './standing.js';
import { RESTART_FROM_CONFIG, StateStore, type StateFileStatus, type StoredCluster } from './store.js';
import { hostIdOf, hostRecord, SharedRouting, type SharedHost, type SharedStatus } from './store/routing.js';
import { isObject } from '../core/given.js';

export interface SidecarDeps {
  /**
   * Starts versions given as `containers`. Default: the Docker launcher for
   * `dockerHost`, loaded when first needed. `null`: none (such versions are
   * refused with 400).
   */
  launcher?: Launcher | null;
  /** Where logs go (JSON lines). Default stderr. */
  logStream?: DestinationStream;
  /** Without `logStream`: `pretty` lines or `json`. Default `pretty` when stderr is a terminal, else `json`. */
  logFormat?: LogFormat;
}


/**
 * A running sidecar: the proxy, the REST config port, the state file, the
 * container launcher, metrics and logs. Created by `startSidecar`.
 */
export class Sidecar implements ClusterService {
  readonly config: SidecarConfig;
  readonly proxy: Proxy;
  readonly log: Logger;
  readonly metrics: Metrics;
  private readonly api: ConfigApi;
  private readonly store: StateStore | undefined;
  /** With `store.etcd`: the routing shared with other sidecars (the state file then only caches it). */
  private readonly shared: SharedRouting | undefined;
  private readonly launches: Launches;
  private readonly recent: RecentEvents;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly changes: Changes;
  private stopLogging: () => void = () => {};
  private closing: Promise<void> | undefined;
  private started = false;
  /** The versions came from the state file, not the config's clusters. */
  private restored = false;

  /** Use `startSidecar`. */
  constructor(config: SidecarConfig, proxy: Proxy, log: Logger, deps: SidecarDeps) {
    this.config = config;
    this.proxy = proxy;
    this.log = log;
    const cache = config.stateFile === undefined ? undefined : new StateStore(config.stateFile);
    this.shared = config.store === undefined ? undefined : new SharedRouting(config.store.etcd, hostIdOf(config.sidecarId), log, cache);
    this.store = this.shared === undefined ? cache : undefined;
    this.changes = new Changes(this.store, log, () => this.snapshot(), this.shared);
    this.metrics = new Metrics(proxy, (uuid) => this.launches.get(uuid)?.info.state);
    this.recent = new RecentEvents(proxy);
    this.launches = new Launches({ proxy, log, recent: this.recent, launcher: deps.launcher, dockerHost: config.dockerHost, sidecarId: config.sidecarId, track: (p) => this.track(p) });
    this.api = new ConfigApi(this, config.api, log);
  }

  /** Address clients connect to. */
  get proxyAddress(): { host: string; port: number } {
    const a = this.proxy.address;
    return { host: a.host, port: a.port };
  }

  /** Address of the REST config API. */
  get apiAddress(): { host: string; port: number } {
    return this.api.address;
  }

  /** @internal Restores versions (state file, else config), reconciles containers, opens the config port. */
  async start(): Promise<void> {
    if (this.shared !== undefined) return this.startShared(this.shared);
    const leftovers = this.store === undefined ? 0 : await this.store.removeLeftovers();
    if (leftovers > 0) this.log.info({ event: 'state', stateFile: this.store!.file, removed: leftovers }, `removed ${leftovers} leftover temp file(s) of ${this.store!.file} (writes cut short by a crash)`);
    const stored = this.store === undefined ? undefined : await this.store.load();
    const source = stored !== undefined ? [...stored].reverse() : this.config.clusters;
    for (const [i, input] of source.entries()) {
      try {
        this.restore(input);
      } catch (err) {
        if (stored === undefined) throw err;
        throw new StateFileError(this.store!.file, `version ${i} cannot be restored: ${(err as Error).message}`);
      }
    }
    // Events are logged from here on: a start that fails says one thing only, its reason.
    this.stopLogging = logProxyEvents(this.proxy, this.log);
    persistVerdicts(this.proxy, () => this.track(this.changes.run(() => this.changes.commit(this.snapshot())).catch(() => { /* logged by commit */ })));
    await this.launches.reconcile();
    // Writing the state at once pins the uuids generated for config versions across restarts.
    if (this.store !== undefined && stored === undefined) await this.persist();
    await this.api.listen();
    this.started = true;
    if (stored !== undefined) {
      this.restored = true;
      // A warning, not info: whoever edited the config's clusters must see that they were not used.
      this.log.warn({ event: 'restore', stateFile: this.store!.file, versions: stored.length }, `restored ${stored.length} version(s) from the state file ${this.store!.file}; it wins over the config's clusters. ${RESTART_FROM_CONFIG}`);
    }
  }

  /** With `store.etcd`: the shared versions (an empty routing is seeded with the config's by the first host), then as `start`. */
  private async startShared(shared: SharedRouting): Promise<void> {
    await shared.start(this.sharedHost(), () => this.config.clusters.map((c) => storedFromConfig(c)));
    this.stopLogging = logProxyEvents(this.proxy, this.log);
    await this.launches.reconcile();
    await this.api.listen();
    shared.announce();
    this.started = true;
  }

  private sharedHost(): SharedHost {
    return {
      proxy: this.proxy,
      add: (entry) => this.adoptStored(entry),
      remove: (uuid, reason) => this.removeApplied(uuid, reason),
      describe: () => hostRecord(this.proxyAddress, this.apiAddress, this.proxy.status().versions, (uuid) => this.launches.get(uuid)?.info.state),
    };
  }

  /** A version from the shared store: added as a restart adds it; a container version starts its own containers on this host. */
  private adoptStored(entry: StoredCluster): void {
    this.restore(entry);
    const rec = this.launches.get(entry.uuid);
    // Before the start ends, `reconcile` adopts or launches them.
    if (rec === undefined || !this.started) return;
    this.launches.getLauncher().then((launcher) => {
      rec.containers = launcher.validate(rec.containers, 'cluster.containers');
      this.launches.launch(launcher, { uuid: entry.uuid, launchId: rec.launchId, version: entry.version, containers: rec.containers });
    }).catch((err: Error) => this.launches.setLaunch(entry.uuid, 'failed', err.message));
  }

  private restore(input: unknown): void {
    if (!isObject(input)) throw new InvalidVersionError('cluster', 'must be an object');
    const { containers, percentage, standing, ...rest } = input;
    const json = this.proxy.addVersion(rest, { allowNoServers: containers !== undefined });
    if (containers !== undefined) {
      this.launches.set(json.uuid, { launchId: newLaunchId(), containers, info: { state: 'starting', message: 'waiting for the launcher', since: new Date().toISOString() } });
    }
    if (typeof percentage === 'number' && json.upgradeTransition.mode === 'GRADUAL') this.proxy.setPercentage(json.uuid, percentage);
    if (standing !== undefined) restoreStanding(this.proxy, json.uuid, standing);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Writes the state file (when there is one); resolves once this change is on disk. */
  private async persist(): Promise<void> {
    if (this.store === undefined) return;
    await this.store.save(() => this.snapshot());
  }

  private snapshot(): StoredCluster[] {
    const status = new Map(this.proxy.status().versions.map((v) => [v.uuid, v]));
    return this.proxy.listVersions().map((json) => withStanding(toStored(json, this.launches.get(json.uuid)?.containers, status.get(json.uuid)?.percentage), status.get(json.uuid)));
  }

  private view(json: ClusterJSON): ClusterView {
    const rec = this.launches.get(json.uuid);
    return rec === undefined ? json : { ...json, containers: redact(rec.containers), launch: rec.info };
  }

  // ------------------------------------------------------------------ the config API's operations

  hasCluster(id: string): boolean {
    return this.proxy.getVersion(id) !== undefined;
  }

  /** All versions, newest first. */
  listClusters(): ClusterView[] {
    return this.proxy.listVersions().map((v) => this.view(v));
  }

  getCluster(id: string): ClusterView {
    const json = this.proxy.getVersion(id);
    if (json === undefined) throw new VersionNotFoundError(id);
    return this.view(json);
  }

  /**
   * Adds a version. Resolves once it routes (plain servers) or is starting
   * (containers) and the state file holds it. Nothing changes when it throws.
   */
  async addCluster(input: unknown): Promise<ClusterView> {
    if (!isObject(input)) throw new InvalidVersionError('cluster', `must be an object, got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : `a ${typeof input}`}`);
    const hasContainers = input['containers'] !== undefined;
    // Checked in full before anything changes.
    const spec = validateVersion(input, { extraKeys: ['containers'], serversOptional: hasContainers });
    if (hasContainers && input['servers'] !== undefined) throw new InvalidVersionError('cluster.servers', 'give servers or containers, not both');
    let launcher: Launcher | undefined;
    let containers: unknown;
    if (hasContainers) {
      launcher = await this.launches.getLauncher();
      containers = launcher.validate(input['containers'], 'cluster.containers');
    }
    const { containers: _c, ...rest } = input;
    return this.changes.run(async () => {
      if (this.proxy.getVersion(spec.uuid) !== undefined) throw new VersionExistsError(spec.uuid);
      await this.changes.commit(withVersion(this.snapshot(), toStored(toClusterJSON(spec), hasContainers ? containers : undefined, undefined)));
      if (this.changes.shared) {
        this.metrics.change('add');
        return this.getCluster(spec.uuid);
      }
      // The uuid generated for the commit is the one the proxy gets.
      const json = await this.changes.apply(() => this.proxy.addVersion({ ...rest, uuid: spec.uuid }, { allowNoServers: hasContainers }));
      const launchId = newLaunchId();
      if (hasContainers) this.launches.set(json.uuid, { launchId, containers, info: { state: 'starting', since: new Date().toISOString() } });
      this.metrics.change('add');
      if (launcher !== undefined) this.launches.launch(launcher, { uuid: json.uuid, launchId, version: json.version, containers });
      return this.view(json);
    });
  }

  /** Changes a version (transition, GRADUAL share, servers, balancing). */
  async updateCluster(id: string, patch: unknown): Promise<ClusterView> {
    return this.changes.run(async () => {
      const current = this.proxy.getVersion(id);
      if (current === undefined) throw new VersionNotFoundError(id);
      if (!isObject(patch)) throw new InvalidVersionError('cluster', 'must be an object');
      const rec = this.launches.get(id);
      if (patch['containers'] !== undefined) throw new InvalidVersionError('cluster.containers', 'cannot be changed; add a new version and remove this one');
      if (rec !== undefined && patch['servers'] !== undefined) throw new InvalidVersionError('cluster.servers', 'come from this version\'s containers and cannot be set');
      const next = patchVersion(current, patch, { serversOptional: rec !== undefined });
      const json = toClusterJSON(next.spec);
      // The share the proxy will have: the one set, else the current one while the mode and start stay
      // (else none is stored, and a restart begins at initialPercentage as the proxy does now).
      const same = json.upgradeTransition.mode === current.upgradeTransition.mode && json.upgradeTransition.initialPercentage === current.upgradeTransition.initialPercentage;
      const pct = next.percentage ?? (same ? this.proxy.status().versions.find((v) => v.uuid === id)?.percentage : undefined);
      await this.changes.commit(this.snapshot().map((e) => (e.uuid === id ? toStored(json, rec?.containers, pct) : e)));
      if (this.changes.shared) {
        this.metrics.change('update');
        return this.getCluster(id);
      }
      const applied = await this.changes.apply(() => this.proxy.updateVersion(id, patch, { allowNoServers: rec !== undefined }));
      this.metrics.change('update');
      return this.view(applied);
    });
  }

  /**
   * Removes a version (by the API, or retired when drained): routing stops at once and the state file forgets it
   * before this resolves; its connections drain for `drainTimeout` in the
   * background, then its containers are stopped.
   */
  async removeCluster(id: string, reason: 'api' | 'retired' = 'api'): Promise<ClusterView> {
    return this.changes.run(() => this.removeCommitted(id, reason));
  }

  /** A version the proxy retired: removed as the API removes one; with etcd away, once it returns. */
  retireCluster(id: string): Promise<ClusterView> {
    const remove = (): Promise<ClusterView> => this.removeCluster(id, 'retired');
    return this.shared === undefined ? remove() : this.shared.untilCommitted(remove);
  }

  private async removeCommitted(id: string, reason: 'api' | 'retired' = 'api'): Promise<ClusterView> {
    const json = this.proxy.getVersion(id);
    if (json === undefined) throw new VersionNotFoundError(id);
    const view = this.view(json);
    await this.changes.commit(this.snapshot().filter((e) => e.uuid !== id), reason);
    // Shared: every host, this one included, removes it from the store's watch (for this reason).
    if (!this.changes.shared) this.removeApplied(id, reason);
    this.metrics.change('remove');
    return view;
  }

  /** Stops routing to a version at once; its connections drain in the background, then its containers stop. */
  private removeApplied(id: string, reason: 'api' | 'retired' = 'api'): void {
    const json = this.proxy.getVersion(id);
    if (json === undefined) return;
    const rec = this.launches.get(id);
    this.launches.delete(id);
    const drained = this.proxy.removeVersion(id, { drainTimeout: this.config.drainTimeout, reason });
    this.track(drained.then(async () => {
      if (rec === undefined) return;
      const launcher = await this.launches.getLauncher();
      await launcher.stop(id, rec.launchId);
      this.log.info({ event: 'stop', uuid: id, version: json.version }, `containers of version ${json.version} stopped`);
    }).catch((err: Error) => this.log.error({ event: 'stop', uuid: id, err: err.message }, `stopping version ${json.version}: ${err.message}`)));
  }

  async judgeCluster(id: string, action: JudgeAction): Promise<ClusterView> {
    return this.changes.run(async () => this.view(await judgeVersion(this.proxy, this.changes, () => this.snapshot(), id, action)));
  }

  /** Per-version state, health, share and counters, newest first; the last notable events, oldest first; where the versions came from. */
  status(): ProxyStatus & { versions: Array<VersionStatus & { launch?: LaunchInfo }>; events: RecentEvent[]; stateFile?: StateFileStatus; fleet?: SharedStatus } {
    const s = this.proxy.status();
    return {
      ...s,
      ...(this.shared !== undefined ? { fleet: this.shared.status() } : {}),
      ...(this.store !== undefined ? { stateFile: this.restored ? { path: this.store.file, restored: true, note: RESTART_FROM_CONFIG } : { path: this.store.file, restored: false } } : {}),
      events: this.recent.list(),
      versions: s.versions.map((v) => {
        const rec = this.launches.get(v.uuid);
        return rec === undefined ? v : { ...v, launch: rec.info };
      }),
    };
  }

  /**
   * Stops the config port and the listener, lets open connections finish
   * for up to `drainTimeout` ms (default: the config's), then closes what is
   * left. Containers keep running: the next start adopts them. Idempotent.
   */
  close(opts: { drainTimeout?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      const drainTimeout = opts.drainTimeout ?? this.config.drainTimeout;
      // The shared store first: this host leaves the fleet at once, and nothing applied from the store changes what drains.
      await this.shared?.close().catch(() => {});
      await Promise.all([this.api.close(), this.proxy.close({ drainTimeout })]);
      // Background drains and launches end by then, or are cut off after the deadline.
      await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => setTimeout(r, drainTimeout).unref())]);
      this.stopLogging();
      this.recent.close();
      this.metrics.close();
      await this.launches.close();
      if (this.started) this.log.info({ event: 'stopped' }, 'sidecar stopped');
    })();
    return this.closing;
  }
}

/**
 * Starts a sidecar from a config object (the config file's JSON, see
 * `SidecarConfigInput`, or a `SidecarConfig` from `parseConfig`). Resolves
 * once the proxy and the config port listen. Throws `ConfigError` naming
 * the field for a bad config.
 */
export async function startSidecar(config: unknown, deps: SidecarDeps = {}): Promise<Sidecar> {
  // Containers in the config are checked up front: by the given launcher, else by Docker's rules (pure, no engine needed).
  const checkContainers = deps.launcher ? (v: unknown, f: string) => deps.launcher!.validate(v, f) : deps.launcher === null ? undefined : validateContainers;
  const cfg = isParsed(config) ? config : parseConfig(config, {}, checkContainers);
  const log = createLogger(cfg.logLevel, deps.logStream, deps.logFormat);
  let proxy: Proxy;
  // A version that retires is removed as the API removes one (the store forgets it, its containers stop).
  let sidecar: Sidecar | undefined;
  const retire = (uuid: string): Promise<unknown> => (sidecar !== undefined ? sidecar.retireCluster(uuid) : Promise.resolve());
  try {
    proxy = await createProxy(withActiveHealth(cfg.proxy), { retire });
  } catch (err) {
    throw listenError(err, 'proxy', cfg.proxy.host ?? '0.0.0.0', cfg.proxy.port ?? 0);
  }
  sidecar = new Sidecar(cfg, proxy, log, deps);
  try {
    await sidecar.start();
  } catch (err) {
    await sidecar.close({ drainTimeout: 0 }).catch(() => {});
    throw err;
  }
  warnIfUnauthenticated(log, cfg.api, sidecar.apiAddress.port);
  log.info({ event: 'started', proxy: sidecar.proxyAddress, api: sidecar.apiAddress, stateFile: cfg.stateFile, auth: cfg.api.token !== undefined }, `upshift listening on ${sidecar.proxyAddress.host}:${sidecar.proxyAddress.port}, config API on ${sidecar.apiAddress.host}:${sidecar.apiAddress.port}`);
  return sidecar;
}

/** A listen failure, named after the config field that chose the address. */
export function listenError(err: unknown, section: string, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new ConfigError(`${section}.port`, `${host}:${port} is in use`);
  if (code === 'EACCES') return new ConfigError(`${section}.port`, `no permission to listen on ${host}:${port}`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new ConfigError(`${section}.host`, `cannot listen on ${host}: ${code}`);
  return err;
}

function isParsed(c: unknown): c is SidecarConfig {
  return isObject(c) && isObject(c['api']) && Array.isArray(c['clusters']) && typeof c['drainTimeout'] === 'number';
}

import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Proxy, ServerAddress } from '../core/index.js';
import type { LaunchInfo } from './cluster-service.js';
import { loadDockerLauncher } from './docker-loader.js';
import { NoLauncherError } from './errors.js';
import type { LaunchState, Launcher, LaunchSpec } from './launcher.js';
import type { RecentEvents } from './recent-events.js';

export interface LaunchRecord {
  /** This record's launch: a uuid removed and added again gets a new one, so the old launch's stop cannot hit it. */
  launchId: string;
  containers: unknown;
  info: LaunchInfo;
}

export interface LaunchesOptions {
  proxy: Proxy;
  log: Logger;
  recent: RecentEvents;
  /** The launcher given to the sidecar: undefined loads the Docker one when first needed, null is none. */
  launcher: Launcher | null | undefined;
  dockerHost: unknown;
  sidecarId: string | undefined;
  /** Background work the sidecar waits for when it closes. */
  track(p: Promise<unknown>): void;
}

/**
 * The container versions of this sidecar: each one's launch record (its
 * containers and progress), the launcher that starts them, and what
 * follows a launch (servers set when ready, emptied when a container dies).
 */
export class Launches {
  private readonly records = new Map<string, LaunchRecord>();
  private launcherPromise: Promise<Launcher> | undefined;
  private wiredLaunchers = new WeakSet<Launcher>();

  constructor(private readonly opts: LaunchesOptions) {}

  get(uuid: string): LaunchRecord | undefined {
    return this.records.get(uuid);
  }

  set(uuid: string, rec: LaunchRecord): void {
    this.records.set(uuid, rec);
  }

  delete(uuid: string): void {
    this.records.delete(uuid);
  }

  /** Adopts running containers of restored versions and launches the missing ones. */
  async reconcile(): Promise<void> {
    const wanted = [...this.records.entries()];
    if (wanted.length === 0 && this.opts.launcher === undefined && this.opts.dockerHost === undefined) return;
    let launcher: Launcher;
    try {
      launcher = await this.getLauncher();
    } catch (err) {
      for (const [uuid] of wanted) this.setLaunch(uuid, 'failed', (err as Error).message);
      if (wanted.length > 0) this.opts.log.error({ event: 'launcher', err: (err as Error).message }, `container versions cannot start: ${(err as Error).message}`);
      else this.opts.log.warn({ event: 'launcher', err: (err as Error).message }, `no container launcher: ${(err as Error).message}`);
      return;
    }
    const specs: LaunchSpec[] = [];
    for (const [uuid, rec] of wanted) {
      try {
        rec.containers = launcher.validate(rec.containers, 'cluster.containers');
        specs.push({ uuid, launchId: rec.launchId, version: this.opts.proxy.getVersion(uuid)!.version, containers: rec.containers });
      } catch (err) {
        this.setLaunch(uuid, 'failed', (err as Error).message);
      }
    }
    let running: Map<string, ServerAddress[]>;
    try {
      running = await launcher.reconcile(specs);
    } catch (err) {
      this.opts.log.error({ event: 'reconcile', err: (err as Error).message }, `cannot list containers: ${(err as Error).message}`);
      running = new Map();
    }
    for (const spec of specs) {
      const servers = running.get(spec.uuid);
      if (servers !== undefined && servers.length > 0) {
        this.opts.proxy.updateVersion(spec.uuid, { servers }, { allowNoServers: true });
        this.setLaunch(spec.uuid, 'ready', 'adopted running containers');
      } else {
        this.launch(launcher, spec);
      }
    }
  }

  /** The launcher, created on first need; rejects with `NoLauncherError` saying why there is none. */
  async getLauncher(): Promise<Launcher> {
    if (this.opts.launcher === null) throw new NoLauncherError('no container launcher is configured');
    const launcher = this.opts.launcher ?? await (this.launcherPromise ??= loadDockerLauncher(this.opts.dockerHost, this.opts.sidecarId, this.opts.log).catch((err: Error) => {
      // Forget the failure: Docker may be reachable on the next attempt.
      this.launcherPromise = undefined;
      throw new NoLauncherError(err.message);
    }));
    if (!this.wiredLaunchers.has(launcher)) {
      this.wiredLaunchers.add(launcher);
      launcher.on('died', (uuid, reason, launchId) => this.onDied(uuid, reason, launchId));
    }
    return launcher;
  }

  setLaunch(uuid: string, state: LaunchState, message?: string): void {
    const rec = this.records.get(uuid);
    if (rec === undefined) return;
    rec.info = message === undefined ? { state, since: new Date().toISOString() } : { state, message, since: new Date().toISOString() };
    this.opts.recent.launch(uuid, this.opts.proxy.getVersion(uuid)?.version, state, message);
  }

  launch(launcher: Launcher, spec: LaunchSpec): void {
    const rec = this.records.get(spec.uuid);
    if (rec === undefined) return;
    const current = (): boolean => this.records.get(spec.uuid) === rec;
    this.setLaunch(spec.uuid, 'starting');
    this.opts.log.info({ event: 'launch', uuid: spec.uuid, version: spec.version }, `starting containers of version ${spec.version}`);
    const p = launcher.launch(spec, (progress) => {
      if (!current()) return;
      this.setLaunch(spec.uuid, progress.state, progress.message);
      this.opts.log.info({ event: 'launch', uuid: spec.uuid, version: spec.version, state: progress.state, detail: progress.message }, `version ${spec.version}: ${progress.state}${progress.message ? ` (${progress.message})` : ''}`);
    }).then((servers) => {
      if (!current()) {
        // Deleted while it started: what started must not outlive it.
        return launcher.stop(spec.uuid, spec.launchId);
      }
      this.opts.proxy.updateVersion(spec.uuid, { servers }, { allowNoServers: true });
      this.setLaunch(spec.uuid, 'ready');
      this.opts.log.info({ event: 'launch', uuid: spec.uuid, version: spec.version, state: 'ready', servers: servers.map((s) => `${s.hostname}:${s.port}`) }, `version ${spec.version} is ready`);
      return undefined;
    }, (err: Error) => {
      if (!current()) return;
      this.setLaunch(spec.uuid, 'failed', err.message);
      this.opts.log.warn({ event: 'launch', uuid: spec.uuid, version: spec.version, state: 'failed', err: err.message }, `version ${spec.version} failed to start: ${err.message}`);
    }).catch((err: Error) => this.opts.log.error({ event: 'launch', uuid: spec.uuid, err: err.message }, `cleaning up version ${spec.version}: ${err.message}`));
    this.opts.track(p);
  }

  /**
   * A ready version's container stopped. Its servers are emptied at once, so
   * the version is down and new traffic falls back now, rather than after
   * each client meets a refused connection; the status says what happened.
   */
  private onDied(uuid: string, reason: string, launchId: string | undefined): void {
    const rec = this.records.get(uuid);
    if (rec === undefined || this.opts.proxy.getVersion(uuid) === undefined) return;
    // A death of a launch this uuid no longer runs (removed, draining) is not this version's.
    if (launchId !== undefined && launchId !== rec.launchId) return;
    this.setLaunch(uuid, 'failed', `container died: ${reason}`);
    this.opts.proxy.updateVersion(uuid, { servers: [] }, { allowNoServers: true });
    this.opts.log.warn({ event: 'died', uuid, reason }, `container of version ${this.opts.proxy.getVersion(uuid)?.version} died (${reason}): traffic falls back`);
  }

  /** Closes the launcher, if one was made or given. */
  async close(): Promise<void> {
    const launcher = this.opts.launcher ?? (this.launcherPromise ? await this.launcherPromise.catch(() => undefined) : undefined);
    await launcher?.close().catch(() => {});
  }
}

/** Names one launch of a container version (12 hex digits). */
export function newLaunchId(): string {
  return randomBytes(6).toString('hex');
}

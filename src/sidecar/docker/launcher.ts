import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import Docker from 'dockerode';
import type { ServerAddress } from '../../core/index.js';
import { InvalidOptionError, UpshiftError } from '../../core/errors.js';
import type { Launcher, LaunchProgress, LaunchSpec } from '../launcher.js';
import { createOptions, defaultName, type CreateContext } from './create-options.js';
import { DeathWatch } from './deaths.js';
import { callError, Engine } from './engine.js';
import {
  DockerCallError, DockerUnreachableError, LaunchAbortedError, LauncherStateError, engineMessage, engineStatus,
} from './errors.js';
import { dockerOptions } from './host.js';
import { ensureImage } from './image.js';
import { newManaged, noopLogger, type LauncherLogger, type Managed, type ManagedState } from './managed.js';
import { probeTarget, publishedAddress, waitReady } from './readiness.js';
import { containerName, reconcileContainers } from './reconcile.js';
import { redact } from './redact.js';
import { LABELS, imageRef, validateContainers, type ContainerSpec } from './spec.js';

export type { LauncherLogger } from './managed.js';

export interface DockerLauncherOptions {
  /** Socket path, host:port or {host, port} (see `dockerOptions`); default DOCKER_HOST, else /var/run/docker.sock. */
  dockerHost?: unknown;
  /**
   * Names this sidecar in every container's labels; reconcile only touches
   * containers carrying it, so two sidecars sharing an engine need different
   * ids, and one sidecar must keep its id across restarts. Default: the
   * UPSHIFT_SIDECAR_ID environment variable, else "default".
   */
  sidecarId?: string | undefined;
  logger?: LauncherLogger | undefined;
  /** Host address the proxied container ports are published on and dialed at. Default 127.0.0.1. */
  publishIp?: string | undefined;
  /** Seconds a container gets to exit on `stop` before it is killed. Default 10. */
  stopTimeout?: number | undefined;
  /** Seconds a missing image may take to pull. Default 300. */
  pullTimeout?: number | undefined;
  /** Milliseconds any single Docker API call may take (a pull: `pullTimeout`). Default 30000. */
  apiTimeout?: number | undefined;
  /**
   * Milliseconds the engine may take, at start-up, to answer the first ping
   * and each call of `reconcile`, and to connect the event stream before a
   * launch goes on without it (it keeps trying). Default 10000.
   */
  startupTimeout?: number | undefined;
  /**
   * Watch the engine's event stream for deaths. Default true; false relies on
   * the proxy's failed dials alone (an engine behind an API proxy that
   * filters /events).
   */
  watchEvents?: boolean | undefined;
}

type Progress = (state: LaunchProgress['state'], message: string) => void;

/**
 * Runs each container-backed version as Docker containers (see `Launcher`).
 *
 * Every container carries labels naming this sidecar, the version's uuid and
 * version, its index in the spec and a digest of its spec. A container port
 * named by `portToProxy` is published on `publishIp` (127.0.0.1) at a port
 * Docker picks, and that address is what the proxy dials; a host port of
 * `portBindings` is dialed where it is bound (ports.ts). Deaths are found by
 * `DeathWatch` and reported once as `died`. The pieces: `create-options.ts`
 * (the create body), `image.ts` (present or pulled), `readiness.ts`
 * (published ports, probes), `reconcile.ts` (adoption at startup),
 * `deaths.ts`; this file runs a launch and removes what it made.
 */
export class DockerLauncher extends EventEmitter implements Launcher {
  readonly docker: Docker;
  /** Calls bounded by `apiTimeout`; `atStartup` by `startupTimeout`. */
  private readonly calls: Engine;
  private readonly atStartup: Engine;
  readonly sidecarId: string;
  readonly engine: string;
  private readonly log: LauncherLogger;
  private readonly publishIp: string;
  private readonly stopTimeout: number;
  private readonly pullTimeoutMs: number;
  /** Launches by launch id. */
  private readonly managed = new Map<string, Managed>();
  private readonly deaths: DeathWatch;
  private closed = false;

  constructor(opts: DockerLauncherOptions) {
    super();
    const sidecarId = opts.sidecarId ?? process.env.UPSHIFT_SIDECAR_ID ?? 'default';
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(sidecarId)) {
      throw new InvalidOptionError('sidecarId', 'must be 1-63 letters, digits, "_", "." or "-", starting with a letter or digit');
    }
    const { describe, ...dopts } = dockerOptions(opts.dockerHost);
    this.engine = describe;
    const apiTimeout = opts.apiTimeout ?? 30_000;
    const startupTimeout = opts.startupTimeout ?? 10_000;
    // dockerode's own timeout is an idle one: a backstop behind the whole-call deadlines of `Engine`.
    this.docker = new Docker({ ...dopts, timeout: Math.max(apiTimeout, startupTimeout) + 1000 });
    this.calls = new Engine(this.docker, describe, apiTimeout);
    this.atStartup = new Engine(this.docker, describe, startupTimeout);
    this.sidecarId = sidecarId;
    this.log = opts.logger ?? noopLogger;
    this.publishIp = opts.publishIp ?? '127.0.0.1';
    this.stopTimeout = opts.stopTimeout ?? 10;
    this.pullTimeoutMs = (opts.pullTimeout ?? 300) * 1000;
    this.deaths = new DeathWatch({
      calls: this.calls,
      connectTimeoutMs: startupTimeout,
      // The event stream stays idle for long stretches: no idle timeout on it.
      eventsDocker: new Docker(dopts),
      engine: describe,
      sidecarId,
      log: this.log,
      useEvents: opts.watchEvents ?? true,
      launches: this.managed,
      onDied: (m, reason) => this.emit('died', m.uuid, reason, m.launchId),
    });
  }

  /** Resolves when the engine answers; rejects with a message naming the engine otherwise. */
  async ping(): Promise<void> {
    try {
      // dockerode takes the signal here too; its types do not say so.
      await this.atStartup.call('ping', (d, signal) => (d.ping as unknown as (o: object) => Promise<unknown>)({ abortSignal: signal }));
    } catch (err) {
      throw new DockerUnreachableError(this.engine, err instanceof UpshiftError ? err.message.replace(/^ping: /, '') : engineMessage(err));
    }
  }

  validate(containers: unknown, field: string): ContainerSpec[] {
    return validateContainers(containers, field);
  }

  /** State of the latest launch of a version, for status pages and tests. */
  stateOf(uuid: string): ManagedState | undefined {
    return this.launchesOf(uuid).at(-1)?.state;
  }

  /** The launches of a uuid, oldest first (two while a removed version drains and its uuid was added again). */
  private launchesOf(uuid: string): Managed[] {
    return [...this.managed.values()].filter((m) => m.uuid === uuid);
  }

  async launch(spec: LaunchSpec, onProgress: (p: LaunchProgress) => void): Promise<ServerAddress[]> {
    if (this.closed) throw new LauncherStateError('the Docker launcher is closed');
    const launchId = spec.launchId ?? newLaunchId();
    if (!/^[a-zA-Z0-9_.-]{1,32}$/.test(launchId)) throw new InvalidOptionError('launchId', 'must be 1-32 letters, digits, "_", "." or "-"');
    const prev = this.managed.get(launchId);
    if (prev !== undefined && (prev.state === 'launching' || prev.state === 'ready' || prev.state === 'stopping')) {
      throw new LauncherStateError(`launch ${launchId} of version ${spec.uuid} is already ${prev.state === 'ready' ? 'running' : prev.state}`);
    }
    const specs = validateContainers(spec.containers, 'containers');
    const m = newManaged(launchId, spec.uuid, spec.version, specs, 'launching');
    this.managed.set(launchId, m);
    const progress: Progress = (state, message) => {
      const safe = redact(message, specs);
      // The sidecar logs each step it is told of; here only at debug level, to avoid saying it twice.
      this.log.debug({ uuid: m.uuid, version: m.version, state }, safe);
      try { onProgress({ state, message: safe }); } catch { /* a listener's failure is not the launch's */ }
    };
    // `launching` covers the clean-up too: stop() and close() wait until nothing is left.
    const whole = (async (): Promise<ServerAddress[]> => {
      try {
        return await this.runLaunch(m, progress);
      } catch (err) {
        const failure = err instanceof Error ? err : new Error(String(err));
        failure.message = redact(failure.message, specs);
        try {
          await this.removeCreated(m);
        } catch (cleanupErr) {
          this.log.error({ uuid: m.uuid, err: redact((cleanupErr as Error).message, specs) }, 'cleaning up a failed launch');
        }
        if (this.managed.get(m.launchId) === m && m.state === 'launching') this.managed.delete(m.launchId);
        progress('failed', failure.message);
        throw failure;
      }
    })();
    m.launching = whole;
    try {
      return await whole;
    } finally {
      m.launching = undefined;
    }
  }

  private async runLaunch(m: Managed, progress: Progress): Promise<ServerAddress[]> {
    const signal = m.abort.signal;
    const check = (): void => {
      if (signal.aborted || this.closed) throw new LaunchAbortedError();
    };
    progress('starting', `launching ${m.specs.length} container${m.specs.length === 1 ? '' : 's'}`);
    // Waiting for the event stream first means a container that dies right after it is ready is seen.
    await this.deaths.watch();
    for (const ref of new Set(m.specs.map(imageRef))) {
      check();
      await ensureImage(this.calls, ref, this.pullTimeoutMs, (msg) => progress('starting', msg), signal, m.hide);
    }
    check();
    // Leftovers of an earlier attempt for the same version (a crash mid-launch) go first: never two sets.
    // Containers of another launch of this uuid (draining after a remove) are not leftovers.
    await this.removeLeftovers(m);
    const ctx: CreateContext = { sidecarId: this.sidecarId, publishIp: this.publishIp, uuid: m.uuid, launchId: m.launchId, version: m.version, count: m.specs.length };
    for (const [index, c] of m.specs.entries()) {
      check();
      const name = c.name ?? defaultName(ctx, index);
      progress('starting', `creating container ${name} from ${imageRef(c)}`);
      let container: Docker.Container;
      try {
        container = await this.calls.call(`cannot create container ${name}`, (d, abortSignal) => d.createContainer({ ...createOptions(ctx, index, c, name), abortSignal }));
      } catch (err) {
        const status = engineStatus(err);
        if (status === 409) throw new DockerCallError(`cannot create container ${name}`, 'the name is in use by another container', status);
        throw callError(`cannot create container ${name}`, err, m.hide);
      }
      m.containers.push({ id: container.id, name, index });
      this.deaths.track(container.id, m);
      check();
      progress('starting', `starting container ${name}`);
      try {
        await this.calls.call(`cannot start container ${name}`, (_d, abortSignal) => container.start({ abortSignal }));
      } catch (err) {
        throw callError(`cannot start container ${name}`, err, m.hide);
      }
    }
    const addresses: ServerAddress[] = [];
    for (const { id, name, index } of m.containers) {
      check();
      const c = m.specs[index]!;
      const published = await publishedAddress(this.calls, this.publishIp, id, name, c, m.hide);
      if (c.portToProxy !== undefined) addresses.push(published.proxy!);
      if (c.readiness.type === 'none') continue;
      const target = probeTarget(c, name, published);
      const probePort = c.readiness.port ?? c.portToProxy!;
      progress('starting', `waiting for container ${name} to be ready (${c.readiness.type} probe on port ${probePort}, deadline ${c.readiness.deadline} s)`);
      await waitReady(this.calls, m, id, name, c, target, check);
    }
    check();
    m.addresses = addresses;
    m.state = 'ready';
    progress('ready', `ready at ${addresses.map((a) => `${a.hostname}:${a.port}`).join(', ')}`);
    return addresses;
  }

  /** Removes what a failed or aborted launch created. */
  private async removeCreated(m: Managed): Promise<void> {
    for (const { id, name } of [...m.containers].reverse()) {
      await this.removeContainer(this.calls, id, name, false, m.hide);
    }
    // Anything created but not yet recorded (a create that answered after an abort) carries the launch label.
    await this.removeByLabel(this.calls, LABELS.launch, m.launchId, false).catch(() => {});
  }

  /** Containers of this uuid that belong to no launch alive in this process: left by a crash mid-launch. */
  private async removeLeftovers(m: Managed): Promise<void> {
    const live = new Set<string>();
    for (const other of this.managed.values()) {
      if (other === m) continue;
      live.add(other.launchId);
      for (const c of other.containers) live.add(c.id);
    }
    const list = await this.ownContainers(this.calls, LABELS.uuid, m.uuid);
    const stale = list.filter((c) => !live.has(c.Id) && !live.has(c.Labels[LABELS.launch] ?? ''));
    await Promise.all(stale.map((c) => this.removeContainer(this.calls, c.Id, containerName(c), false, m.hide)));
  }

  private async removeContainer(engine: Engine, id: string, name: string, graceful: boolean, hide: (s: string) => string = (s) => s): Promise<void> {
    const c = this.docker.getContainer(id);
    if (graceful) {
      try {
        // The engine waits up to stopTimeout for the container to exit: the call may take that long.
        await engine.call(`cannot stop container ${name}`, (_d, abortSignal) => c.stop({ t: this.stopTimeout, abortSignal }), { timeoutMs: engine.timeoutMs + this.stopTimeout * 1000 });
      } catch (err) {
        const s = engineStatus(err);
        if (s !== 304 && s !== 404) this.log.warn({ container: name, err: hide(err instanceof UpshiftError ? err.message : engineMessage(err)) }, 'stop failed; removing by force');
      }
    }
    try {
      await engine.call(`cannot remove container ${name}`, (_d, abortSignal) => c.remove({ force: true, v: true, abortSignal }));
      this.log.info({ container: name }, 'container removed');
    } catch (err) {
      const s = engineStatus(err);
      // 404: gone already; 409: the engine is removing it already.
      if (s !== 404 && s !== 409) throw callError(`cannot remove container ${name}`, err, hide);
    } finally {
      this.deaths.untrack(id);
    }
  }

  /** This sidecar's containers, optionally only those whose label `key` is `value`. */
  private async ownContainers(engine: Engine, key?: string, value?: string): Promise<Docker.ContainerInfo[]> {
    const label = [`${LABELS.sidecar}=${this.sidecarId}`];
    if (key !== undefined) label.push(`${key}=${value}`);
    return engine.call('cannot list containers', (d, abortSignal) => d.listContainers({ all: true, filters: { label }, abortSignal }));
  }

  private async removeByLabel(engine: Engine, key: string, value: string, graceful: boolean, hide?: (s: string) => string): Promise<void> {
    const list = await this.ownContainers(engine, key, value);
    await Promise.all(list.map((c) => this.removeContainer(engine, c.Id, containerName(c), graceful, hide)));
  }

  /**
   * Stops one launch: aborts it if it is still starting, then stops and
   * removes its containers (those it recorded, and any carrying its label).
   * Another launch of the same uuid, added while this one drained, is left
   * alone. Without `launchId`: every launch of the uuid, and any container
   * labelled with it.
   */
  async stop(uuid: string, launchId?: string): Promise<void> {
    const targets = launchId === undefined ? this.launchesOf(uuid) : [this.managed.get(launchId)].filter((m): m is Managed => m !== undefined);
    for (const m of targets) {
      m.state = 'stopping';
      m.abort.abort();
    }
    await Promise.all(targets.map((m) => m.launching?.catch(() => {})));
    try {
      for (const m of targets) {
        await Promise.all(m.containers.map((c) => this.removeContainer(this.calls, c.id, c.name, true, m.hide)));
        await this.removeByLabel(this.calls, LABELS.launch, m.launchId, true, m.hide);
      }
      if (launchId === undefined) await this.removeByLabel(this.calls, LABELS.uuid, uuid, true);
      else if (targets.length === 0) await this.removeByLabel(this.calls, LABELS.launch, launchId, true);
      this.log.info({ uuid, launchId, version: targets[0]?.version }, 'version stopped');
    } finally {
      for (const m of targets) if (this.managed.get(m.launchId) === m) this.managed.delete(m.launchId);
    }
  }

  async reconcile(specs: LaunchSpec[]): Promise<Map<string, ServerAddress[]>> {
    // At start-up: every call bounded by startupTimeout, so a hung engine cannot hold the sidecar.
    const engine = this.atStartup;
    const adopted = await reconcileContainers({
      engine,
      publishIp: this.publishIp,
      log: this.log,
      list: () => this.ownContainers(engine),
      removeAll: async (list) => { for (const c of list) await this.removeContainer(engine, c.Id, containerName(c), false); },
      known: (uuid) => this.launchesOf(uuid).length > 0,
      newLaunchId,
    }, specs);
    const result = new Map<string, ServerAddress[]>();
    for (const m of adopted) {
      for (const c of m.containers) this.deaths.track(c.id, m);
      this.managed.set(m.launchId, m);
      result.set(m.uuid, m.addresses);
    }
    await this.deaths.watch();
    return result;
  }

  /** Stops watching; aborts launches still in progress (removing their containers). Running versions keep running. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deaths.close();
    const pending: Promise<unknown>[] = [];
    for (const m of this.managed.values()) {
      if (m.launching !== undefined) {
        m.abort.abort();
        pending.push(m.launching.catch(() => {}));
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(pending), new Promise<void>((resolve) => { timer = setTimeout(resolve, 30_000); })]);
    clearTimeout(timer);
  }
}

/** A short random launch id (12 hex digits): unique enough among one sidecar's containers. */
function newLaunchId(): string {
  return randomBytes(6).toString('hex');
}

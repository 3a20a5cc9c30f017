import { EventEmitter } from 'node:events';
import Docker from 'dockerode';
import type { ServerAddress } from '../../core/index.js';
import { InvalidOptionError } from '../../core/errors.js';
import type { Launcher, LaunchProgress, LaunchSpec } from '../launcher.js';
import { createOptions, defaultName, type CreateContext } from './create-options.js';
import { DeathWatch } from './deaths.js';
import {
  DockerCallError, DockerUnreachableError, LaunchAbortedError, LauncherStateError, engineMessage, engineStatus,
} from './errors.js';
import { dockerOptions } from './host.js';
import { ensureImage } from './image.js';
import { newManaged, noopLogger, type LauncherLogger, type Managed, type ManagedState } from './managed.js';
import { probeTarget, publishedAddress, waitReady } from './readiness.js';
import { containerName, reconcileContainers } from './reconcile.js';
import { LABELS, imageRef, redact, validateContainers, type ContainerSpec } from './spec.js';

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
  /** Milliseconds any single Docker API call may stay idle. Default 60000. */
  apiTimeout?: number | undefined;
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
  readonly sidecarId: string;
  readonly engine: string;
  private readonly log: LauncherLogger;
  private readonly publishIp: string;
  private readonly stopTimeout: number;
  private readonly pullTimeoutMs: number;
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
    this.docker = new Docker({ ...dopts, timeout: opts.apiTimeout ?? 60_000 });
    this.sidecarId = sidecarId;
    this.log = opts.logger ?? noopLogger;
    this.publishIp = opts.publishIp ?? '127.0.0.1';
    this.stopTimeout = opts.stopTimeout ?? 10;
    this.pullTimeoutMs = (opts.pullTimeout ?? 300) * 1000;
    this.deaths = new DeathWatch({
      docker: this.docker,
      // The event stream stays idle for long stretches: no idle timeout on it.
      eventsDocker: new Docker(dopts),
      engine: describe,
      sidecarId,
      log: this.log,
      useEvents: opts.watchEvents ?? true,
      launches: this.managed,
      onDied: (m, reason) => this.emit('died', m.uuid, reason),
    });
  }

  /** Resolves when the engine answers; rejects with a message naming the engine otherwise. */
  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw new DockerUnreachableError(this.engine, engineMessage(err));
    }
  }

  validate(containers: unknown, field: string): ContainerSpec[] {
    return validateContainers(containers, field);
  }

  /** Launch state of a version, for status pages and tests. */
  stateOf(uuid: string): ManagedState | undefined {
    return this.managed.get(uuid)?.state;
  }

  async launch(spec: LaunchSpec, onProgress: (p: LaunchProgress) => void): Promise<ServerAddress[]> {
    if (this.closed) throw new LauncherStateError('the Docker launcher is closed');
    const prev = this.managed.get(spec.uuid);
    if (prev !== undefined && (prev.state === 'launching' || prev.state === 'ready' || prev.state === 'stopping')) {
      throw new LauncherStateError(`version ${spec.uuid} is already ${prev.state === 'ready' ? 'running' : prev.state}`);
    }
    const specs = validateContainers(spec.containers, 'containers');
    const m = newManaged(spec.uuid, spec.version, specs, 'launching');
    this.managed.set(spec.uuid, m);
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
        if (this.managed.get(m.uuid) === m && m.state === 'launching') this.managed.delete(m.uuid);
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
      await ensureImage(this.docker, ref, this.pullTimeoutMs, (msg) => progress('starting', msg), signal);
    }
    check();
    // Leftovers of an earlier attempt for the same version (a crash mid-launch) go first: never two sets.
    await this.removeByLabel(m.uuid, false);
    const ctx: CreateContext = { sidecarId: this.sidecarId, publishIp: this.publishIp, uuid: m.uuid, version: m.version, count: m.specs.length };
    for (const [index, c] of m.specs.entries()) {
      check();
      const name = c.name ?? defaultName(ctx, index);
      progress('starting', `creating container ${name} from ${imageRef(c)}`);
      let container: Docker.Container;
      try {
        container = await this.docker.createContainer(createOptions(ctx, index, c, name));
      } catch (err) {
        const status = engineStatus(err);
        throw new DockerCallError(`cannot create container ${name}`, status === 409 ? 'the name is in use by another container' : engineMessage(err), status);
      }
      m.containers.push({ id: container.id, name, index });
      this.deaths.track(container.id, m);
      check();
      progress('starting', `starting container ${name}`);
      try {
        await container.start();
      } catch (err) {
        throw new DockerCallError(`cannot start container ${name}`, engineMessage(err), engineStatus(err));
      }
    }
    const addresses: ServerAddress[] = [];
    for (const { id, name, index } of m.containers) {
      check();
      const c = m.specs[index]!;
      const published = await publishedAddress(this.docker, this.publishIp, id, name, c);
      if (c.portToProxy !== undefined) addresses.push(published.proxy!);
      if (c.readiness.type === 'none') continue;
      const target = probeTarget(c, name, published);
      const probePort = c.readiness.port ?? c.portToProxy!;
      progress('starting', `waiting for container ${name} to be ready (${c.readiness.type} probe on port ${probePort}, deadline ${c.readiness.deadline} s)`);
      await waitReady(this.docker, m, id, name, c, target, check);
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
      await this.removeContainer(id, name, false);
    }
    // Anything created but not yet recorded (a create that answered after an abort) carries the label.
    await this.removeByLabel(m.uuid, false).catch(() => {});
  }

  private async removeContainer(id: string, name: string, graceful: boolean): Promise<void> {
    const c = this.docker.getContainer(id);
    if (graceful) {
      try {
        await c.stop({ t: this.stopTimeout });
      } catch (err) {
        const s = engineStatus(err);
        if (s !== 304 && s !== 404) this.log.warn({ container: name, err: engineMessage(err) }, 'stop failed; removing by force');
      }
    }
    try {
      await c.remove({ force: true, v: true });
      this.log.info({ container: name }, 'container removed');
    } catch (err) {
      const s = engineStatus(err);
      // 404: gone already; 409: the engine is removing it already.
      if (s !== 404 && s !== 409) throw new DockerCallError(`cannot remove container ${name}`, engineMessage(err), s);
    } finally {
      this.deaths.untrack(id);
    }
  }

  private async ownContainers(uuid?: string): Promise<Docker.ContainerInfo[]> {
    const label = [`${LABELS.sidecar}=${this.sidecarId}`];
    if (uuid !== undefined) label.push(`${LABELS.uuid}=${uuid}`);
    return this.docker.listContainers({ all: true, filters: { label } });
  }

  private async removeByLabel(uuid: string, graceful: boolean): Promise<void> {
    const list = await this.ownContainers(uuid);
    await Promise.all(list.map((c) => this.removeContainer(c.Id, containerName(c), graceful)));
  }

  async stop(uuid: string): Promise<void> {
    const m = this.managed.get(uuid);
    if (m !== undefined) {
      m.state = 'stopping';
      m.abort.abort();
      if (m.launching !== undefined) await m.launching.catch(() => {});
    }
    try {
      await this.removeByLabel(uuid, true);
      this.log.info({ uuid, version: m?.version }, 'version stopped');
    } finally {
      if (this.managed.get(uuid) === m) this.managed.delete(uuid);
    }
  }

  async reconcile(specs: LaunchSpec[]): Promise<Map<string, ServerAddress[]>> {
    const adopted = await reconcileContainers({
      docker: this.docker,
      publishIp: this.publishIp,
      log: this.log,
      list: () => this.ownContainers(),
      removeAll: async (list) => { for (const c of list) await this.removeContainer(c.Id, containerName(c), false); },
      known: (uuid) => this.managed.has(uuid),
    }, specs);
    const result = new Map<string, ServerAddress[]>();
    for (const m of adopted) {
      for (const c of m.containers) this.deaths.track(c.id, m);
      this.managed.set(m.uuid, m);
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

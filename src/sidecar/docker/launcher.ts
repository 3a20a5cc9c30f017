import { EventEmitter } from 'node:events';
import diagnostics_channel from 'node:diagnostics_channel';
import Docker from 'dockerode';
import type { ServerAddress } from '../../core/index.js';
import { InvalidOptionError } from '../../core/errors.js';
import type { Launcher, LaunchProgress, LaunchSpec } from '../launcher.js';
import { dockerOptions } from './host.js';
import { proxyTarget } from './ports.js';
import { probeOnce } from './probe.js';
import {
  LABELS, imageRef, redact, specDigest, validateContainers, type ContainerSpec,
} from './spec.js';

/** The logging calls the launcher makes (pino's signature). Never given secrets. */
export interface LauncherLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

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

type State = 'launching' | 'ready' | 'dead' | 'stopping';

interface Managed {
  uuid: string;
  version: string;
  specs: ContainerSpec[];
  /** Containers created so far, in spec order. */
  containers: Array<{ id: string; name: string; index: number }>;
  addresses: ServerAddress[];
  state: State;
  abort: AbortController;
  /** Set by the events stream when one of its containers exits during the launch. */
  exited: string | undefined;
  launching: Promise<unknown> | undefined;
  checking: boolean;
}

const noopLogger: LauncherLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface DockerError { statusCode?: number; json?: { message?: string } | null; reason?: string; message?: string }

function dockerMessage(err: unknown): string {
  const e = err as DockerError;
  const m = e?.json?.message ?? e?.message ?? String(err);
  return m.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

function statusOf(err: unknown): number | undefined {
  return (err as DockerError)?.statusCode;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function safeName(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.-]+/g, '-').replace(/^[^a-zA-Z0-9]+/, '');
}

class LaunchAborted extends Error {}

/**
 * Runs each container-backed version as Docker containers (see `Launcher`).
 *
 * Every container carries labels naming this sidecar, the version's uuid and
 * version, its index in the spec and a digest of its spec. A container port
 * named by `portToProxy` is published on `publishIp` (127.0.0.1) at a port
 * Docker picks, and that address is what the proxy dials; a host port of
 * `portBindings` is dialed where it is bound (ports.ts). A container's death is seen
 * through the engine's event stream and through the proxy's own failed dials
 * (`upshift:upstream:failure`), and reported once as `died`.
 */
export class DockerLauncher extends EventEmitter implements Launcher {
  readonly docker: Docker;
  readonly sidecarId: string;
  readonly engine: string;
  private readonly eventsDocker: Docker;
  private readonly log: LauncherLogger;
  private readonly publishIp: string;
  private readonly stopTimeout: number;
  private readonly pullTimeoutMs: number;
  private readonly managed = new Map<string, Managed>();
  private readonly byContainer = new Map<string, string>();
  private closed = false;
  private readonly useEvents: boolean;
  private eventsStream: NodeJS.ReadableStream | undefined;
  private eventsConnected: Promise<void> | undefined;
  private eventsSince = Math.floor(Date.now() / 1000);
  private readonly onUpstreamFailure = (msg: unknown): void => {
    const uuid = (msg as { uuid?: unknown } | null)?.uuid;
    if (typeof uuid === 'string') this.checkAlive(uuid, 'the proxy could not reach it');
  };

  constructor(opts: DockerLauncherOptions) {
    super();
    const sidecarId = opts.sidecarId ?? process.env.UPSHIFT_SIDECAR_ID ?? 'default';
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(sidecarId)) {
      throw new InvalidOptionError('sidecarId', 'must be 1-63 letters, digits, "_", "." or "-", starting with a letter or digit');
    }
    const { describe, ...dopts } = dockerOptions(opts.dockerHost);
    this.engine = describe;
    this.docker = new Docker({ ...dopts, timeout: opts.apiTimeout ?? 60_000 });
    // The event stream stays idle for long stretches: no idle timeout on it.
    this.eventsDocker = new Docker(dopts);
    this.sidecarId = sidecarId;
    this.log = opts.logger ?? noopLogger;
    this.publishIp = opts.publishIp ?? '127.0.0.1';
    this.stopTimeout = opts.stopTimeout ?? 10;
    this.pullTimeoutMs = (opts.pullTimeout ?? 300) * 1000;
    this.useEvents = opts.watchEvents ?? true;
    diagnostics_channel.subscribe('upshift:upstream:failure', this.onUpstreamFailure);
  }

  /** Resolves when the engine answers; rejects with a message naming the engine otherwise. */
  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw new Error(`Docker engine at ${this.engine} is not reachable: ${dockerMessage(err)}`);
    }
  }

  validate(containers: unknown, field: string): ContainerSpec[] {
    return validateContainers(containers, field);
  }

  /** Launch state of a version, for status pages and tests. */
  stateOf(uuid: string): State | undefined {
    return this.managed.get(uuid)?.state;
  }

  async launch(spec: LaunchSpec, onProgress: (p: LaunchProgress) => void): Promise<ServerAddress[]> {
    if (this.closed) throw new Error('the Docker launcher is closed');
    const prev = this.managed.get(spec.uuid);
    if (prev !== undefined && (prev.state === 'launching' || prev.state === 'ready' || prev.state === 'stopping')) {
      throw new Error(`version ${spec.uuid} is already ${prev.state === 'ready' ? 'running' : prev.state}`);
    }
    const specs = validateContainers(spec.containers, 'containers');
    const m: Managed = {
      uuid: spec.uuid, version: spec.version, specs, containers: [], addresses: [], state: 'launching',
      abort: new AbortController(), exited: undefined, launching: undefined, checking: false,
    };
    this.managed.set(spec.uuid, m);
    const progress = (state: LaunchProgress['state'], message: string): void => {
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
        const reason = redact(err instanceof LaunchAborted ? 'stopped before it was ready' : (err as Error).message, specs);
        try {
          await this.removeCreated(m);
        } catch (cleanupErr) {
          this.log.error({ uuid: m.uuid, err: redact((cleanupErr as Error).message, specs) }, 'cleaning up a failed launch');
        }
        if (this.managed.get(m.uuid) === m && m.state === 'launching') this.managed.delete(m.uuid);
        progress('failed', reason);
        throw new Error(reason);
      }
    })();
    m.launching = whole;
    try {
      return await whole;
    } finally {
      m.launching = undefined;
    }
  }

  private async runLaunch(m: Managed, progress: (state: LaunchProgress['state'], message: string) => void): Promise<ServerAddress[]> {
    const signal = m.abort.signal;
    const check = (): void => {
      if (signal.aborted || this.closed) throw new LaunchAborted();
    };
    progress('starting', `launching ${m.specs.length} container${m.specs.length === 1 ? '' : 's'}`);
    // Waiting for the event stream first means a container that dies right after it is ready is seen.
    await this.watchEvents();
    for (const ref of new Set(m.specs.map(imageRef))) {
      check();
      await this.ensureImage(ref, (msg) => progress('starting', msg), signal);
    }
    check();
    // Leftovers of an earlier attempt for the same version (a crash mid-launch) go first: never two sets.
    await this.removeByLabel(m.uuid, false);
    for (const [index, c] of m.specs.entries()) {
      check();
      const name = c.name ?? this.defaultName(m, index);
      progress('starting', `creating container ${name} from ${imageRef(c)}`);
      let container: Docker.Container;
      try {
        container = await this.docker.createContainer(this.createOptions(m, index, c, name));
      } catch (err) {
        if (statusOf(err) === 409) throw new Error(`cannot create container ${name}: the name is in use by another container`);
        throw new Error(`cannot create container ${name}: ${dockerMessage(err)}`);
      }
      m.containers.push({ id: container.id, name, index });
      this.byContainer.set(container.id, m.uuid);
      check();
      progress('starting', `starting container ${name}`);
      try {
        await container.start();
      } catch (err) {
        throw new Error(`cannot start container ${name}: ${dockerMessage(err)}`);
      }
    }
    const addresses: ServerAddress[] = [];
    for (const { id, name, index } of m.containers) {
      check();
      const c = m.specs[index]!;
      const published = await this.publishedAddress(id, name, c);
      if (c.portToProxy !== undefined) addresses.push(published.proxy!);
      if (c.readiness.type === 'none') continue;
      const probePort = c.readiness.port ?? c.portToProxy!;
      const target = probePort === c.portToProxy ? published.proxy! : published.ports.get(probePort);
      if (target === undefined) {
        throw new Error(`container ${name}: readiness port ${probePort} is not published (set portBindings for it, or probe portToProxy)`);
      }
      progress('starting', `waiting for container ${name} to be ready (${c.readiness.type} probe on port ${probePort}, deadline ${c.readiness.deadline} s)`);
      await this.waitReady(m, id, name, c, target, check);
    }
    check();
    m.addresses = addresses;
    m.state = 'ready';
    progress('ready', `ready at ${addresses.map((a) => `${a.hostname}:${a.port}`).join(', ')}`);
    return addresses;
  }

  private defaultName(m: Managed, index: number): string {
    const base = safeName(`upshift-${this.sidecarId}-${m.version}-${m.uuid.slice(0, 12)}`).slice(0, 110);
    return m.specs.length === 1 ? base : `${base}-${index}`;
  }

  private createOptions(m: Managed, index: number, c: ContainerSpec, name: string): Docker.ContainerCreateOptions {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
    for (const [key, list] of Object.entries(c.portBindings)) {
      exposed[key] = {};
      bindings[key] = list.map((b) => ({ HostIp: b.hostIp, HostPort: b.hostPort }));
    }
    const hostNet = c.network === 'host';
    const probePort = c.readiness.type !== 'none' ? c.readiness.port : undefined;
    const target = proxyTarget(c);
    // A host-port portToProxy (the prototype's model) is bound as given in portBindings.
    for (const p of [target?.model === 'published' ? target.containerPort : undefined, probePort]) {
      if (p === undefined || hostNet) continue;
      const key = `${p}/tcp`;
      exposed[key] = {};
      // The address upshift dials: loopback only, a port Docker picks.
      const list = bindings[key] ?? (bindings[key] = []);
      if (!list.some((b) => b.HostIp === this.publishIp)) list.push({ HostIp: this.publishIp, HostPort: '' });
    }
    const anonymous: Record<string, object> = {};
    const binds: string[] = [];
    for (const v of c.volumes) {
      if (v.includes(':')) binds.push(v);
      else anonymous[v] = {};
    }
    return {
      name,
      Image: imageRef(c),
      // Passed in the API request body: never on a command line, never logged.
      Env: c.environment.map(([k, v]) => `${k}=${v}`),
      Cmd: c.cmd,
      Entrypoint: c.entrypoint,
      WorkingDir: c.workingDir,
      Hostname: c.hostname,
      User: c.user,
      ExposedPorts: exposed,
      Volumes: anonymous,
      Labels: {
        ...c.labels,
        [LABELS.sidecar]: this.sidecarId,
        [LABELS.uuid]: m.uuid,
        [LABELS.version]: m.version,
        [LABELS.index]: String(index),
        [LABELS.spec]: specDigest(m.uuid, index, c),
      },
      HostConfig: {
        Binds: binds,
        VolumesFrom: c.volumesFrom,
        PortBindings: hostNet ? {} : bindings,
        Links: c.links,
        Memory: c.memory,
        CpuShares: c.cpuShares,
        Privileged: c.privileged,
        NetworkMode: c.network,
        RestartPolicy: { Name: c.restartPolicy.name, MaximumRetryCount: c.restartPolicy.maximumRetryCount },
      },
    };
  }

  /** The proxied address of a started container, and the host side of its other published ports. */
  private async publishedAddress(id: string, name: string, c: ContainerSpec): Promise<{ proxy: ServerAddress | undefined; ports: Map<number, ServerAddress> }> {
    const ports = new Map<number, ServerAddress>();
    if (c.network === 'host') {
      const proxy = c.portToProxy === undefined ? undefined : { hostname: '127.0.0.1', port: c.portToProxy };
      if (c.readiness.port !== undefined) ports.set(c.readiness.port, { hostname: '127.0.0.1', port: c.readiness.port });
      return { proxy, ports };
    }
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(id).inspect();
    } catch (err) {
      throw new Error(`cannot inspect container ${name}: ${dockerMessage(err)}`);
    }
    if (!info.State.Running) throw new Error(`container ${name} ${this.exitText(info)} right after it started`);
    for (const [key, list] of Object.entries(info.NetworkSettings.Ports ?? {})) {
      const port = Number(key.split('/')[0]);
      const b = (list ?? []).find((x) => x.HostIp === this.publishIp) ?? (list ?? [])[0];
      if (b === undefined) continue;
      const hostPort = Number(b.HostPort);
      if (!Number.isInteger(hostPort) || hostPort <= 0) continue;
      const host = b.HostIp === '' || b.HostIp === '0.0.0.0' || b.HostIp === '::' ? this.publishIp : b.HostIp;
      ports.set(port, { hostname: host, port: hostPort });
    }
    let proxy: ServerAddress | undefined;
    const target = proxyTarget(c);
    if (target?.model === 'host') {
      proxy = target.address;
    } else if (target !== undefined) {
      proxy = ports.get(target.containerPort);
      if (proxy === undefined) throw new Error(`container ${name}: port ${c.portToProxy} was not published (network ${c.network ?? 'default'})`);
    }
    return { proxy, ports };
  }

  private exitText(info: Docker.ContainerInspectInfo): string {
    const s = info.State;
    const detail = s.Error ? `: ${s.Error}` : '';
    if (s.OOMKilled) return 'was killed for using too much memory';
    return `exited with code ${s.ExitCode}${detail}`;
  }

  private async waitReady(m: Managed, id: string, name: string, c: ContainerSpec, target: ServerAddress, check: () => void): Promise<void> {
    const deadline = Date.now() + c.readiness.deadline * 1000;
    const intervalMs = Math.max(10, c.readiness.interval * 1000);
    let lastInspect = Date.now();
    for (;;) {
      check();
      if (m.exited !== undefined) throw new Error(`container ${name} ${m.exited} before it was ready`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`container ${name} was not ready within ${c.readiness.deadline} s (${c.readiness.type} probe on ${target.hostname}:${target.port})`);
      const type = c.readiness.type === 'http' ? 'http' : 'tcp';
      if (await probeOnce(type, target.hostname, target.port, c.readiness.path, Math.min(2000, left))) return;
      // The event stream normally tells us a container exited; look ourselves now and then too.
      if (Date.now() - lastInspect >= 1000) {
        lastInspect = Date.now();
        const info = await this.docker.getContainer(id).inspect().catch(() => undefined);
        if (info !== undefined && !info.State.Running) throw new Error(`container ${name} ${this.exitText(info)} before it was ready`);
      }
      await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())), m.abort.signal);
    }
  }

  /** Uses the local image, or pulls it (bounded by pullTimeout). */
  private async ensureImage(ref: string, progress: (msg: string) => void, signal: AbortSignal): Promise<void> {
    progress(`checking image ${ref}`);
    try {
      await this.docker.getImage(ref).inspect();
      return;
    } catch (err) {
      if (statusOf(err) !== 404) throw new Error(`cannot inspect image ${ref}: ${dockerMessage(err)}`);
    }
    progress(`image ${ref} is not present: pulling it`);
    const timeout = AbortSignal.timeout(this.pullTimeoutMs);
    const both = AbortSignal.any([signal, timeout]);
    try {
      const stream = await this.docker.pull(ref, { abortSignal: both });
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          (stream as unknown as { destroy?: () => void }).destroy?.();
          reject(new Error(timeout.aborted ? `timed out after ${this.pullTimeoutMs / 1000} s` : 'aborted'));
        };
        both.addEventListener('abort', onAbort, { once: true });
        this.docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
          both.removeEventListener('abort', onAbort);
          const failed = err ?? (events ?? []).find((e) => e.error !== undefined);
          if (failed) reject(new Error(failed instanceof Error ? failed.message : (failed.errorDetail?.message ?? failed.error)));
          else resolve();
        });
      });
    } catch (err) {
      if (signal.aborted) throw new LaunchAborted();
      throw new Error(`image ${ref} is not present and could not be pulled: ${dockerMessage(err)}`);
    }
    progress(`pulled image ${ref}`);
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
        const s = statusOf(err);
        if (s !== 304 && s !== 404) this.log.warn({ container: name, err: dockerMessage(err) }, 'stop failed; removing by force');
      }
    }
    try {
      await c.remove({ force: true, v: true });
      this.log.info({ container: name }, 'container removed');
    } catch (err) {
      const s = statusOf(err);
      // 404: gone already; 409: the engine is removing it already.
      if (s !== 404 && s !== 409) throw new Error(`cannot remove container ${name}: ${dockerMessage(err)}`);
    } finally {
      this.byContainer.delete(id);
    }
  }

  private async ownContainers(uuid?: string): Promise<Docker.ContainerInfo[]> {
    const label = [`${LABELS.sidecar}=${this.sidecarId}`];
    if (uuid !== undefined) label.push(`${LABELS.uuid}=${uuid}`);
    return this.docker.listContainers({ all: true, filters: { label } });
  }

  private async removeByLabel(uuid: string, graceful: boolean): Promise<void> {
    const list = await this.ownContainers(uuid);
    await Promise.all(list.map((c) => this.removeContainer(c.Id, c.Names[0]?.replace(/^\//, '') ?? c.Id, graceful)));
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
    const result = new Map<string, ServerAddress[]>();
    const groups = new Map<string, Docker.ContainerInfo[]>();
    for (const c of await this.ownContainers()) {
      const uuid = c.Labels[LABELS.uuid] ?? '';
      const g = groups.get(uuid);
      if (g === undefined) groups.set(uuid, [c]);
      else g.push(c);
    }
    for (const spec of specs) {
      const found = groups.get(spec.uuid) ?? [];
      groups.delete(spec.uuid);
      if (this.managed.has(spec.uuid)) continue;
      let cs: ContainerSpec[];
      try {
        cs = validateContainers(spec.containers, 'containers');
      } catch (err) {
        this.log.warn({ uuid: spec.uuid, err: (err as Error).message }, 'restored version has invalid containers; removing its containers');
        await this.removeAll(found);
        continue;
      }
      const adopted = await this.adopt(spec, cs, found);
      if (adopted !== undefined) {
        result.set(spec.uuid, adopted);
      } else if (found.length > 0) {
        this.log.info({ uuid: spec.uuid, version: spec.version, containers: found.length }, 'containers do not match the version or are not running; removing them so it is launched again');
        await this.removeAll(found);
      }
    }
    for (const [uuid, list] of groups) {
      this.log.info({ uuid, containers: list.map((c) => c.Names[0]) }, 'removing orphan containers of a version this sidecar no longer has');
      await this.removeAll(list);
    }
    await this.watchEvents();
    return result;
  }

  private async removeAll(list: Docker.ContainerInfo[]): Promise<void> {
    for (const c of list) await this.removeContainer(c.Id, c.Names[0]?.replace(/^\//, '') ?? c.Id, false);
  }

  /** Takes over a version's running containers if they are exactly its spec; undefined if not. */
  private async adopt(spec: LaunchSpec, cs: ContainerSpec[], found: Docker.ContainerInfo[]): Promise<ServerAddress[] | undefined> {
    if (found.length !== cs.length) return undefined;
    const byIndex = new Map<number, Docker.ContainerInfo>();
    for (const c of found) {
      const index = Number(c.Labels[LABELS.index]);
      const spec0 = cs[index];
      if (spec0 === undefined || byIndex.has(index)) return undefined;
      if (c.State !== 'running') return undefined;
      if (c.Labels[LABELS.spec] !== specDigest(spec.uuid, index, spec0)) return undefined;
      byIndex.set(index, c);
    }
    const m: Managed = {
      uuid: spec.uuid, version: spec.version, specs: cs, containers: [], addresses: [], state: 'ready',
      abort: new AbortController(), exited: undefined, launching: undefined, checking: false,
    };
    for (const [index, c] of [...byIndex.entries()].sort((a, b) => a[0] - b[0])) {
      const name = c.Names[0]?.replace(/^\//, '') ?? c.Id;
      let published;
      try {
        published = await this.publishedAddress(c.Id, name, cs[index]!);
      } catch (err) {
        this.log.warn({ uuid: spec.uuid, container: name, err: (err as Error).message }, 'cannot adopt container');
        return undefined;
      }
      m.containers.push({ id: c.Id, name, index });
      if (published.proxy !== undefined) m.addresses.push(published.proxy);
    }
    for (const c of m.containers) this.byContainer.set(c.id, m.uuid);
    this.managed.set(spec.uuid, m);
    this.log.info({ uuid: spec.uuid, version: spec.version, addresses: m.addresses }, 'adopted running containers');
    return m.addresses;
  }

  private markDied(m: Managed, reason: string): void {
    if (m.state !== 'ready') return;
    m.state = 'dead';
    this.log.warn({ uuid: m.uuid, version: m.version }, `version died: ${reason}`);
    this.emit('died', m.uuid, reason);
  }

  /** After a failed dial: if one of the version's containers is not running, it died. */
  private checkAlive(uuid: string, why: string): void {
    const m = this.managed.get(uuid);
    if (m === undefined || m.state !== 'ready' || m.checking) return;
    m.checking = true;
    void (async () => {
      try {
        for (const { id, name } of m.containers) {
          const info = await this.docker.getContainer(id).inspect().catch((err: unknown) => (statusOf(err) === 404 ? null : undefined));
          if (info === null) return this.markDied(m, `container ${name} is gone (${why})`);
          if (info !== undefined && !info.State.Running) return this.markDied(m, `container ${name} ${this.exitText(info)} (${why})`);
        }
      } finally {
        m.checking = false;
      }
    })();
  }

  private onEngineEvent(ev: { status?: string; Action?: string; id?: string; time?: number; Actor?: { ID?: string; Attributes?: Record<string, string> } }): void {
    if (typeof ev.time === 'number') this.eventsSince = Math.max(this.eventsSince, ev.time);
    const action = ev.Action ?? ev.status;
    const id = ev.Actor?.ID ?? ev.id;
    const attrs = ev.Actor?.Attributes ?? {};
    const uuid = attrs[LABELS.uuid] ?? (id !== undefined ? this.byContainer.get(id) : undefined);
    if (uuid === undefined || (action !== 'die' && action !== 'oom')) return;
    const m = this.managed.get(uuid);
    if (m === undefined) return;
    const name = attrs.name ?? id?.slice(0, 12) ?? 'unknown';
    const reason = action === 'oom'
      ? `container ${name} ran out of memory`
      : `container ${name} exited with code ${attrs.exitCode ?? 'unknown'}`;
    if (m.state === 'launching') m.exited = reason.replace(`container ${name} `, '');
    else if (m.state === 'ready') this.markDied(m, reason);
  }

  /** Connects the engine's event stream (once; reconnects after an error). Resolves when connected or failed. */
  private watchEvents(): Promise<void> {
    if (this.closed || !this.useEvents) return Promise.resolve();
    if (this.eventsConnected !== undefined) return this.eventsConnected;
    const connect = async (): Promise<void> => {
      let stream: NodeJS.ReadableStream;
      try {
        stream = await this.eventsDocker.getEvents({
          since: this.eventsSince,
          filters: { type: ['container'], event: ['die', 'oom'], label: [`${LABELS.sidecar}=${this.sidecarId}`] },
        } as Docker.GetEventsOptions);
      } catch (err) {
        this.log.warn({ engine: this.engine, err: dockerMessage(err) }, 'cannot watch Docker events; retrying');
        this.eventsConnected = undefined;
        setTimeout(() => { if (!this.closed && this.eventsConnected === undefined) void this.watchEvents(); }, 2000).unref();
        return;
      }
      if (this.closed) {
        (stream as unknown as { destroy(): void }).destroy();
        return;
      }
      this.eventsStream = stream;
      let buf = '';
      stream.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line === '') continue;
          try { this.onEngineEvent(JSON.parse(line)); } catch { /* not an event */ }
        }
      });
      const lost = (): void => {
        if (this.eventsStream !== stream) return;
        this.eventsStream = undefined;
        this.eventsConnected = undefined;
        if (this.closed) return;
        this.log.warn({ engine: this.engine }, 'Docker event stream ended; reconnecting');
        setTimeout(() => { if (!this.closed) void this.watchEvents(); }, 1000).unref();
        // Deaths missed while disconnected are caught by a check of every ready version.
        for (const uuid of this.managed.keys()) this.checkAlive(uuid, 'found while reconnecting to the engine');
      };
      stream.on('error', lost);
      stream.on('end', lost);
      stream.on('close', lost);
    };
    this.eventsConnected = connect();
    return this.eventsConnected;
  }

  /** Stops watching; aborts launches still in progress (removing their containers). Running versions keep running. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    diagnostics_channel.unsubscribe('upshift:upstream:failure', this.onUpstreamFailure);
    const s = this.eventsStream;
    this.eventsStream = undefined;
    (s as unknown as { destroy?: () => void } | undefined)?.destroy?.();
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

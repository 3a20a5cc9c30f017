import type Docker from 'dockerode';
import { proxyTarget } from './ports.js';
import { LABELS, imageRef, specDigest, type ContainerSpec } from './spec.js';

/** What a container's create call needs to know besides its spec. */
export interface CreateContext {
  sidecarId: string;
  /** Host address the proxied port is published on. */
  publishIp: string;
  uuid: string;
  /** The launch the container belongs to (see `Managed.launchId`). */
  launchId: string;
  version: string;
  /** How many containers the version has (a single one gets no index suffix). */
  count: number;
}

function safeName(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.-]+/g, '-').replace(/^[^a-zA-Z0-9]+/, '');
}

/**
 * `upshift-<sidecarId>-<version>-<uuid>-<launch>`, plus `-<index>` when the
 * version has several containers. The launch part lets a uuid be added again
 * while its previous containers still drain.
 */
export function defaultName(ctx: CreateContext, index: number): string {
  const base = safeName(`upshift-${ctx.sidecarId}-${ctx.version}-${ctx.uuid.slice(0, 12)}-${ctx.launchId}`).slice(0, 110);
  return ctx.count === 1 ? base : `${base}-${index}`;
}

/** The engine's create body for one container of a version (pure). */
export function createOptions(ctx: CreateContext, index: number, c: ContainerSpec, name: string): Docker.ContainerCreateOptions {
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
    if (!list.some((b) => b.HostIp === ctx.publishIp)) list.push({ HostIp: ctx.publishIp, HostPort: '' });
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
      [LABELS.sidecar]: ctx.sidecarId,
      [LABELS.uuid]: ctx.uuid,
      [LABELS.launch]: ctx.launchId,
      [LABELS.version]: ctx.version,
      [LABELS.index]: String(index),
      [LABELS.spec]: specDigest(ctx.uuid, index, c),
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

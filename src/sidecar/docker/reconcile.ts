import type Docker from 'dockerode';
import type { LaunchSpec } from '../launcher.js';
import type { Engine } from './engine.js';
import { newManaged, type LauncherLogger, type Managed } from './managed.js';
import { publishedAddress } from './readiness.js';
import { LABELS, specDigest, validateContainers, type ContainerSpec } from './spec.js';

export interface ReconcileContext {
  engine: Engine;
  publishIp: string;
  log: LauncherLogger;
  /** This sidecar's containers (all states). */
  list(): Promise<Docker.ContainerInfo[]>;
  /** Removes containers by force. */
  removeAll(list: Docker.ContainerInfo[]): Promise<void>;
  /** True when a launch of this uuid is under way or running already: its containers are left alone. */
  known(uuid: string): boolean;
  /** The launch id for an adopted version that comes without one. */
  newLaunchId(): string;
}

export function containerName(c: Docker.ContainerInfo): string {
  return c.Names[0]?.replace(/^\//, '') ?? c.Id;
}

/**
 * At startup: adopts the running containers of each restored version whose
 * labels match its spec exactly, removes the rest of this sidecar's
 * containers (orphans, stopped ones, ones made from another spec), and
 * returns the adopted launches (state `ready`). Versions not among them must
 * be launched again.
 */
export async function reconcileContainers(ctx: ReconcileContext, specs: LaunchSpec[]): Promise<Managed[]> {
  const adopted: Managed[] = [];
  const groups = new Map<string, Docker.ContainerInfo[]>();
  for (const c of await ctx.list()) {
    const uuid = c.Labels[LABELS.uuid] ?? '';
    const g = groups.get(uuid);
    if (g === undefined) groups.set(uuid, [c]);
    else g.push(c);
  }
  for (const spec of specs) {
    const found = groups.get(spec.uuid) ?? [];
    groups.delete(spec.uuid);
    if (ctx.known(spec.uuid)) continue;
    let cs: ContainerSpec[];
    try {
      cs = validateContainers(spec.containers, 'containers');
    } catch (err) {
      ctx.log.warn({ uuid: spec.uuid, err: (err as Error).message }, 'restored version has invalid containers; removing its containers');
      await ctx.removeAll(found);
      continue;
    }
    const m = await adopt(ctx, spec, cs, found);
    if (m !== undefined) {
      adopted.push(m);
    } else if (found.length > 0) {
      ctx.log.info({ uuid: spec.uuid, version: spec.version, containers: found.length }, 'containers do not match the version or are not running; removing them so it is launched again');
      await ctx.removeAll(found);
    }
  }
  for (const [uuid, list] of groups) {
    ctx.log.info({ uuid, containers: list.map((c) => c.Names[0]) }, 'removing orphan containers of a version this sidecar no longer has');
    await ctx.removeAll(list);
  }
  return adopted;
}

/** A launch made of a version's running containers if they are exactly its spec; undefined if not. */
async function adopt(ctx: ReconcileContext, spec: LaunchSpec, cs: ContainerSpec[], found: Docker.ContainerInfo[]): Promise<Managed | undefined> {
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
  // The adopted containers keep the launch label of the run that made them; the launch knows them by id.
  const m = newManaged(spec.launchId ?? ctx.newLaunchId(), spec.uuid, spec.version, cs, 'ready');
  for (const [index, c] of [...byIndex.entries()].sort((a, b) => a[0] - b[0])) {
    const name = containerName(c);
    let published;
    try {
      published = await publishedAddress(ctx.engine, ctx.publishIp, c.Id, name, cs[index]!, m.hide);
    } catch (err) {
      ctx.log.warn({ uuid: spec.uuid, container: name, err: (err as Error).message }, 'cannot adopt container');
      return undefined;
    }
    m.containers.push({ id: c.Id, name, index });
    if (published.proxy !== undefined) m.addresses.push(published.proxy);
  }
  ctx.log.info({ uuid: spec.uuid, version: spec.version, addresses: m.addresses }, 'adopted running containers');
  return m;
}

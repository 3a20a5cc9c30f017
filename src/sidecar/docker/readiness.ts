import type Docker from 'dockerode';
import type { ServerAddress } from '../../core/index.js';
import { callError, type Engine } from './engine.js';
import { ContainerFailedError } from './errors.js';
import { sleep, type Managed } from './managed.js';
import { proxyTarget } from './ports.js';
import { probeOnce } from './probe.js';
import type { ContainerSpec } from './spec.js';

/** Where a started container can be reached: the proxied address, and the host side of its other published ports. */
export interface Published {
  proxy: ServerAddress | undefined;
  ports: Map<number, ServerAddress>;
}

/** How a stopped container ended, in words ("exited with code 3: ..."); `hide` cleans the engine's error text. */
export function exitText(info: Docker.ContainerInspectInfo, hide: (engineText: string) => string): string {
  const s = info.State;
  const detail = s.Error ? `: ${hide(s.Error)}` : '';
  if (s.OOMKilled) return 'was killed for using too much memory';
  return `exited with code ${s.ExitCode}${detail}`;
}

/** Reads a started container's published ports from the engine. */
export async function publishedAddress(engine: Engine, publishIp: string, id: string, name: string, c: ContainerSpec, hide: (engineText: string) => string): Promise<Published> {
  const ports = new Map<number, ServerAddress>();
  if (c.network === 'host') {
    const proxy = c.portToProxy === undefined ? undefined : { hostname: '127.0.0.1', port: c.portToProxy };
    if (c.readiness.port !== undefined) ports.set(c.readiness.port, { hostname: '127.0.0.1', port: c.readiness.port });
    return { proxy, ports };
  }
  let info: Docker.ContainerInspectInfo;
  try {
    info = await engine.call(`cannot inspect container ${name}`, (d, signal) => d.getContainer(id).inspect({ abortSignal: signal }));
  } catch (err) {
    throw callError(`cannot inspect container ${name}`, err, hide);
  }
  if (!info.State.Running) throw new ContainerFailedError(`container ${name} ${exitText(info, hide)} right after it started`);
  for (const [key, list] of Object.entries(info.NetworkSettings.Ports ?? {})) {
    const port = Number(key.split('/')[0]);
    const b = (list ?? []).find((x) => x.HostIp === publishIp) ?? (list ?? [])[0];
    if (b === undefined) continue;
    const hostPort = Number(b.HostPort);
    if (!Number.isInteger(hostPort) || hostPort <= 0) continue;
    const host = b.HostIp === '' || b.HostIp === '0.0.0.0' || b.HostIp === '::' ? publishIp : b.HostIp;
    ports.set(port, { hostname: host, port: hostPort });
  }
  let proxy: ServerAddress | undefined;
  const target = proxyTarget(c);
  if (target?.model === 'host') {
    proxy = target.address;
  } else if (target !== undefined) {
    proxy = ports.get(target.containerPort);
    if (proxy === undefined) throw new ContainerFailedError(`container ${name}: port ${c.portToProxy} was not published (network ${c.network ?? 'default'})`);
  }
  return { proxy, ports };
}

/** The address the readiness probe of `c` dials, from its published ports. */
export function probeTarget(c: ContainerSpec, name: string, published: Published): ServerAddress {
  const probePort = c.readiness.port ?? c.portToProxy!;
  const target = probePort === c.portToProxy ? published.proxy! : published.ports.get(probePort);
  if (target === undefined) {
    throw new ContainerFailedError(`container ${name}: readiness port ${probePort} is not published (set portBindings for it, or probe portToProxy)`);
  }
  return target;
}

/**
 * Probes until the container is ready; throws when it exits, when the
 * deadline passes, or (through `check`) when the launch is aborted.
 */
export async function waitReady(engine: Engine, m: Managed, id: string, name: string, c: ContainerSpec, target: ServerAddress, check: () => void): Promise<void> {
  const deadline = Date.now() + c.readiness.deadline * 1000;
  const intervalMs = Math.max(10, c.readiness.interval * 1000);
  let lastInspect = Date.now();
  for (;;) {
    check();
    if (m.exited !== undefined) throw new ContainerFailedError(`container ${name} ${m.exited} before it was ready`);
    const left = deadline - Date.now();
    if (left <= 0) throw new ContainerFailedError(`container ${name} was not ready within ${c.readiness.deadline} s (${c.readiness.type} probe on ${target.hostname}:${target.port})`);
    const type = c.readiness.type === 'http' ? 'http' : 'tcp';
    if (await probeOnce(type, target.hostname, target.port, c.readiness.path, Math.min(2000, left))) return;
    // The event stream normally tells us a container exited; look ourselves now and then too.
    if (Date.now() - lastInspect >= 1000) {
      lastInspect = Date.now();
      const info = await engine.call(`inspect ${name}`, (d, signal) => d.getContainer(id).inspect({ abortSignal: signal })).catch(() => undefined);
      if (info !== undefined && !info.State.Running) throw new ContainerFailedError(`container ${name} ${exitText(info, m.hide)} before it was ready`);
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())), m.abort.signal);
  }
}

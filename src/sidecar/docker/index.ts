import { DockerLauncher, type DockerLauncherOptions } from './launcher.js';

export { DockerLauncher } from './launcher.js';
export type { DockerLauncherOptions, LauncherLogger } from './launcher.js';
export {
  DockerUnreachableError, DockerTimeoutError, DockerCallError, ImageUnavailableError, ContainerFailedError, LaunchAbortedError, LauncherStateError,
} from './errors.js';
export { dockerOptions, DEFAULT_DOCKER_SOCKET } from './host.js';
export { validateContainers, imageRef, LABELS, LABEL_PREFIX, MAX_CONTAINERS } from './spec.js';
export type { ContainerSpec, ReadinessProbe, PortBinding } from './spec.js';

/**
 * The sidecar's entry point: one launcher per sidecar process.
 *
 *   const launcher = await createDockerLauncher({ dockerHost: config.dockerHost, sidecarId, logger });
 *
 * `dockerHost` is a socket path, host:port, {host, port} or {ip, port} (default
 * DOCKER_HOST, else /var/run/docker.sock); `sidecarId` names this sidecar in
 * container labels and must stay the same across restarts so it finds its
 * containers again (default UPSHIFT_SIDECAR_ID, else "default"). Resolves
 * once the engine answers; rejects with a message naming the engine
 * otherwise (and releases what it opened).
 */
export async function createDockerLauncher(opts: DockerLauncherOptions = {}): Promise<DockerLauncher> {
  const launcher = new DockerLauncher(opts);
  try {
    await launcher.ping();
  } catch (err) {
    await launcher.close();
    throw err;
  }
  return launcher;
}

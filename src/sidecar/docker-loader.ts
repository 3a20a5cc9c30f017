import type { Logger } from 'pino';
import type { Launcher } from './launcher.js';

/**
 * Loads the Docker launcher only when a version needs containers, so a
 * sidecar that routes to plain servers never loads dockerode nor touches
 * Docker. Rejects with the reason when the engine does not answer.
 */
export async function loadDockerLauncher(dockerHost: unknown, sidecarId: string | undefined, logger: Logger): Promise<Launcher> {
  const { createDockerLauncher } = await import('./docker/index.js');
  return await createDockerLauncher({ dockerHost, sidecarId, logger: logger.child({ component: 'docker' }) });
}

import type { Logger } from 'pino';
import type { Launcher } from './launcher.js';

/**
 * Loads the Docker launcher only when a version needs containers, so a
 * sidecar that routes to plain servers never loads dockerode nor touches
 * Docker. dockerode is an optional peer dependency (its gRPC, protobuf and
 * SSH tree is most of what the package would otherwise install): a library
 * user never needs it; a clone has it as a dev dependency and the sidecar
 * image carries it. Rejects with the reason when it is not installed or the
 * engine does not answer.
 */
export async function loadDockerLauncher(dockerHost: unknown, sidecarId: string | undefined, logger: Logger): Promise<Launcher> {
  let docker: typeof import('./docker/index.js');
  try {
    docker = await import('./docker/index.js');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && /'dockerode'/.test(e.message)) {
      throw new Error('versions with "containers" need the optional package dockerode: run `npm install dockerode` beside upshift');
    }
    throw err;
  }
  return await docker.createDockerLauncher({ dockerHost, sidecarId, logger: logger.child({ component: 'docker' }) });
}

import { coded, UpshiftError } from '../../core/errors.js';

/**
 * Every failure of the Docker launcher is one of these, with a stable code.
 * Messages name the container or image and say what the engine answered;
 * they never hold an environment value (see `redact` in spec.ts).
 */

/** The engine does not answer (ping failed, socket refused, connection reset). */
export class DockerUnreachableError extends coded('UPS_ERR_DOCKER_UNREACHABLE',
  (engine: string, reason: string) => `Docker engine at ${engine} is not reachable: ${reason}`) {}

/** An engine call did not answer within its bound. */
export class DockerTimeoutError extends coded('UPS_ERR_DOCKER_TIMEOUT',
  (what: string, engine: string, ms: number) => `${what}: the Docker engine at ${engine} did not answer within ${ms / 1000} s`) {}

/** The engine refused a call (create, start, inspect, remove, list); `status` is its HTTP status. */
export class DockerCallError extends UpshiftError {
  readonly status: number | undefined;

  constructor(what: string, reason: string, status?: number) {
    super('UPS_ERR_DOCKER_CALL', `${what}: ${reason}`);
    this.status = status;
  }
}

/** An image is neither present nor pullable. */
export class ImageUnavailableError extends coded('UPS_ERR_DOCKER_IMAGE',
  (ref: string, reason: string) => `image ${ref} is not present and could not be pulled: ${reason}`) {}

/** A container exited, was not ready in time, or its port was not published. */
export class ContainerFailedError extends coded('UPS_ERR_DOCKER_CONTAINER', (message: string) => message) {}

/** A launch was stopped (a DELETE, the launcher closing) before it was ready. */
export class LaunchAbortedError extends coded('UPS_ERR_DOCKER_ABORTED', () => 'stopped before it was ready') {}

/** The launcher cannot take this call now (closed, or the launch exists). */
export class LauncherStateError extends coded('UPS_ERR_DOCKER_STATE', (message: string) => message) {}

interface EngineFailure { statusCode?: number; json?: { message?: string } | null; message?: string }

/** The engine's own words for a failed call, without dockerode's "(HTTP code N) ... -" prefix. */
export function engineMessage(err: unknown): string {
  const e = err as EngineFailure;
  const m = e?.json?.message ?? e?.message ?? String(err);
  return m.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

/** The HTTP status the engine answered a failed call with, if any. */
export function engineStatus(err: unknown): number | undefined {
  const e = err as EngineFailure & { status?: number };
  return e?.statusCode ?? e?.status;
}

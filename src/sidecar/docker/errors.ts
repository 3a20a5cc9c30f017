import { UpshiftError } from '../../core/errors.js';

/**
 * Every failure of the Docker launcher is one of these, with a stable code.
 * Messages name the container or image and say what the engine answered;
 * they never hold an environment value (see `redact` in spec.ts).
 */

/** The engine does not answer (ping failed, socket refused, connection reset). */
export class DockerUnreachableError extends UpshiftError {
  constructor(engine: string, reason: string) {
    super('UPS_ERR_DOCKER_UNREACHABLE', `Docker engine at ${engine} is not reachable: ${reason}`);
    this.name = 'DockerUnreachableError';
  }
}

/** An engine call did not answer within its bound. */
export class DockerTimeoutError extends UpshiftError {
  constructor(what: string, engine: string, ms: number) {
    super('UPS_ERR_DOCKER_TIMEOUT', `${what}: the Docker engine at ${engine} did not answer within ${ms / 1000} s`);
    this.name = 'DockerTimeoutError';
  }
}

/** The engine refused a call (create, start, inspect, remove, list); `status` is its HTTP status. */
export class DockerCallError extends UpshiftError {
  readonly status: number | undefined;

  constructor(what: string, reason: string, status?: number) {
    super('UPS_ERR_DOCKER_CALL', `${what}: ${reason}`);
    this.name = 'DockerCallError';
    this.status = status;
  }
}

/** An image is neither present nor pullable. */
export class ImageUnavailableError extends UpshiftError {
  constructor(ref: string, reason: string) {
    super('UPS_ERR_DOCKER_IMAGE', `image ${ref} is not present and could not be pulled: ${reason}`);
    this.name = 'ImageUnavailableError';
  }
}

/** A container exited, was not ready in time, or its port was not published. */
export class ContainerFailedError extends UpshiftError {
  constructor(message: string) {
    super('UPS_ERR_DOCKER_CONTAINER', message);
    this.name = 'ContainerFailedError';
  }
}

/** A launch was stopped (a DELETE, the launcher closing) before it was ready. */
export class LaunchAbortedError extends UpshiftError {
  constructor() {
    super('UPS_ERR_DOCKER_ABORTED', 'stopped before it was ready');
    this.name = 'LaunchAbortedError';
  }
}

/** The launcher cannot take this call now (closed, or the launch exists). */
export class LauncherStateError extends UpshiftError {
  constructor(message: string) {
    super('UPS_ERR_DOCKER_STATE', message);
    this.name = 'LauncherStateError';
  }
}

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

import { UpshiftError } from '../core/index.js';

/** The sidecar's config file (or a CLI option) is missing, unreadable or invalid. */
export class ConfigError extends UpshiftError {
  constructor(field: string, message: string) {
    super('UPS_ERR_CONFIG', `${field}: ${message}`, field);
    this.name = 'ConfigError';
  }
}

/** The state file exists but cannot be read back. */
export class StateFileError extends UpshiftError {
  constructor(path: string, message: string) {
    super('UPS_ERR_STATE_FILE', `state file ${path}: ${message}`, 'stateFile');
    this.name = 'StateFileError';
  }
}

/** A REST request body is not what the endpoint accepts. */
export class BadBodyError extends UpshiftError {
  constructor(field: string, message: string) {
    super('UPS_ERR_BAD_BODY', `${field}: ${message}`, field);
    this.name = 'BadBodyError';
  }
}

/** A version needs a launcher (it lists `containers`) and none is available. */
export class NoLauncherError extends UpshiftError {
  constructor(reason: string) {
    super('UPS_ERR_NO_LAUNCHER', `cluster.containers: containers cannot be started here: ${reason}`, 'cluster.containers');
    this.name = 'NoLauncherError';
  }
}

/** A config API call without the bearer token, or with a wrong one. */
export class UnauthorizedError extends UpshiftError {
  constructor(message: string) {
    super('UPS_ERR_UNAUTHORIZED', message, 'authorization');
    this.name = 'UnauthorizedError';
  }
}

/** A browser request to the config API from another site (see cross-site.ts). */
export class CrossSiteError extends UpshiftError {
  constructor(reason: string) {
    super('UPS_ERR_CROSS_SITE', `refused: ${reason}; open the status page from this port instead`, 'origin');
    this.name = 'CrossSiteError';
  }
}

/** A config API path that does not take this method. */
export class MethodNotAllowedError extends UpshiftError {
  constructor(method: string, readonly allowed: readonly string[]) {
    super('UPS_ERR_METHOD_NOT_ALLOWED', `method ${method} not allowed here (allowed: ${allowed.join(', ')})`, 'method');
    this.name = 'MethodNotAllowedError';
  }
}

/** No config API path of that name. */
export class PathNotFoundError extends UpshiftError {
  constructor(path: string, known: string) {
    super('UPS_ERR_NOT_FOUND', `no such path: ${path} (see ${known})`, 'path');
    this.name = 'PathNotFoundError';
  }
}

/** A config API request body over `configService.bodyLimit`. */
export class BodyTooLargeError extends UpshiftError {
  constructor(limit: number) {
    super('UPS_ERR_BODY_TOO_LARGE', `request body larger than ${limit} bytes`, 'body');
    this.name = 'BodyTooLargeError';
  }
}

/**
 * The shared store (etcd) cannot be reached, or refuses this host (`field`
 * names the config field at fault: a password, a CA): a change is refused
 * rather than made on this host alone.
 */
export class StoreUnavailableError extends UpshiftError {
  /** What went wrong, without the store's name (`/status` shows it). */
  readonly reason: string;

  constructor(endpoints: readonly string[], reason: string, field = 'store.etcd') {
    const what = field === 'store.etcd' ? `is unreachable: ${reason}` : `cannot be used: ${field}: ${reason}`;
    super('UPS_ERR_STORE_UNAVAILABLE', `store etcd (${endpoints.join(', ')}) ${what}; nothing was changed, this host keeps serving the last applied versions`, field);
    this.name = 'StoreUnavailableError';
    this.reason = field === 'store.etcd' ? reason : `${field}: ${reason}`;
  }
}

/** A change was computed from a version that another host changed meanwhile (a lost update refused). */
export class StoreConflictError extends UpshiftError {
  constructor(uuid: string) {
    super('UPS_ERR_STORE_CONFLICT', `cluster ${uuid} was changed by another host meanwhile; nothing was changed, read it again and retry`, 'cluster.uuid');
    this.name = 'StoreConflictError';
  }
}

/** The status of each failure the config API reports; anything else is a 500. */
const REST_STATUS: Readonly<Record<string, number>> = {
  UPS_ERR_INVALID_VERSION: 400,
  UPS_ERR_BAD_BODY: 400,
  UPS_ERR_NO_LAUNCHER: 400,
  UPS_ERR_UNAUTHORIZED: 401,
  UPS_ERR_CROSS_SITE: 403,
  UPS_ERR_NOT_FOUND: 404,
  UPS_ERR_VERSION_NOT_FOUND: 404,
  UPS_ERR_METHOD_NOT_ALLOWED: 405,
  UPS_ERR_VERSION_EXISTS: 409,
  UPS_ERR_NO_ROLLBACK_TARGET: 409,
  UPS_ERR_STORE_CONFLICT: 409,
  UPS_ERR_BODY_TOO_LARGE: 413,
  UPS_ERR_CLOSED: 503,
  UPS_ERR_STORE_UNAVAILABLE: 503,
};

/** The one place that maps a failure to the config API's answer status (the core's `toHttpStatus` is for proxied traffic). */
export function restStatus(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? REST_STATUS[code] ?? 500 : 500;
}

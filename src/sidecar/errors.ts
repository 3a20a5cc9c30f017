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

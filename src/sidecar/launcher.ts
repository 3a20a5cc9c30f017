import type { ServerAddress } from '../core/index.js';

/**
 * Starts and stops the processes behind a version whose cluster lists
 * `containers` instead of `servers`. The sidecar adds such a version to the
 * proxy with no servers (routed as down, so traffic stays where it is),
 * launches it, and fills in the servers once it is ready. The Docker
 * implementation lives in `docker/`.
 */
export type LaunchState = 'starting' | 'ready' | 'failed' | 'stopping' | 'stopped';

export interface LaunchProgress {
  state: LaunchState;
  /** What is happening or what went wrong, for status and logs (never secrets). */
  message?: string;
}

export interface LaunchSpec {
  uuid: string;
  /**
   * Names this launch of the version. A uuid that is removed and added again
   * while its containers drain has two launches; `stop` and `died` name the
   * one they mean. The launcher makes one up when it is not given.
   */
  launchId?: string;
  version: string;
  /** The `containers` value, as returned by `validate`. */
  containers: unknown;
}

export interface Launcher {
  /** Validates a cluster's `containers` value; throws `InvalidVersionError` naming the field. Returns it normalized. */
  validate(containers: unknown, field: string): unknown;
  /**
   * Starts the version's containers, reporting each step; resolves with the
   * addresses to route to once they are ready. On failure it removes what it
   * created and rejects with an Error whose message says why.
   */
  launch(spec: LaunchSpec, onProgress: (p: LaunchProgress) => void): Promise<ServerAddress[]>;
  /**
   * Stops and removes the containers of one launch (called after its
   * connections drained); without `launchId`, of every launch of the uuid.
   */
  stop(uuid: string, launchId?: string): Promise<void>;
  /**
   * At startup, with the versions restored from the state file: adopts their
   * running containers (no duplicates), removes containers this sidecar owns
   * that belong to no version, and returns the addresses of the versions
   * whose containers are running. Versions missing from the map must be launched again.
   */
  reconcile(specs: LaunchSpec[]): Promise<Map<string, ServerAddress[]>>;
  /** `died`: a ready version's container stopped unexpectedly (`launchId`: which launch of it). */
  on(event: 'died', listener: (uuid: string, reason: string, launchId?: string) => void): this;
  close(): Promise<void>;
}

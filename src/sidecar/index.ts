export { startSidecar, Sidecar, listenError } from './sidecar.js';
export type { SidecarDeps, ClusterView, LaunchInfo } from './sidecar.js';
export { parseConfig, loadConfigFile, DEFAULT_API_HOST, DEFAULT_BODY_LIMIT, DEFAULT_DRAIN_TIMEOUT } from './config.js';
export type { SidecarConfig, SidecarConfigInput, ConfigOverrides } from './config.js';
export { ConfigError, StateFileError, BadBodyError, NoLauncherError } from './errors.js';
export { StateStore } from './store.js';
export type { StoredCluster, StateFile } from './store.js';
export { toPinoLevel, LOG_LEVEL_NAMES } from './logging.js';
export type { Launcher, LaunchSpec, LaunchProgress, LaunchState } from './launcher.js';

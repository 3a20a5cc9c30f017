import type { ClusterJSON } from '../core/index.js';
import type { LaunchState } from './launcher.js';
import type { Metrics } from './metrics.js';

/** Progress of a container version, as GET and /status show it. */
export interface LaunchInfo {
  state: LaunchState;
  message?: string;
  /** When the state last changed (ISO 8601). */
  since: string;
}

/** A version as the REST API shows it: the seed's cluster JSON, plus `containers` and `launch` for container versions. */
export type ClusterView = ClusterJSON & { containers?: unknown; launch?: LaunchInfo };

/**
 * What the REST config API needs of the sidecar. The API depends on this
 * interface only, and the sidecar implements it, so neither module imports
 * the other's implementation. Failures are coded `UpshiftError`s; the API
 * maps their codes to statuses (`restStatus` in errors.ts).
 */
export interface ClusterService {
  /** Prometheus metrics of this sidecar. */
  readonly metrics: Pick<Metrics, 'registry'>;
  /** Whether a version with this id exists. */
  hasCluster(id: string): boolean;
  /** All versions, newest first. */
  listClusters(): ClusterView[];
  getCluster(id: string): ClusterView;
  addCluster(input: unknown): Promise<ClusterView>;
  updateCluster(id: string, patch: unknown): Promise<ClusterView>;
  removeCluster(id: string): Promise<ClusterView>;
  /** An operator's `rollback`, `promote` or `resume` of a version: committed to the state file first, then applied (a refusal is taken back out). */
  judgeCluster(id: string, action: 'rollback' | 'promote' | 'resume'): Promise<ClusterView>;
  /** Per-version state, health, share and counters, newest first. */
  status(): unknown;
}

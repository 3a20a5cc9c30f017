export { createProxy, Proxy } from './proxy.js';
export type { ProxyStatus, VersionStatus, ServerStatus, VersionPatch, AddVersionOptions } from './proxy.js';
export type { ServerHealth } from './upstream/server.js';
export { resolveOptions, defaultConnections, DEFAULT_TIMEOUTS, DEFAULT_LIMITS, DEFAULT_HEALTH, DEFAULT_MODE, DEFAULT_HTTP, DEFAULT_SESSION_COOKIE, DEFAULT_TRANSITION_COOKIE } from './options.js';
export type { ProxyOptions, ResolvedOptions } from './options.js';
export { ProxyEventEmitter, EVENT_NAMES, CHANNEL_PREFIX } from './events.js';
export type { ProxyEvents, ProxyEventName } from './events.js';
export * from './errors.js';
export {
  validateVersion, validateServers, toClusterJSON, isValidVersionId, patchVersion, BALANCING_POLICIES, DEFAULT_VERSION,
} from './routing/spec.js';
export type { VersionInput, VersionSpec, ServerAddress, ClusterJSON, BalancingPolicy, PatchedVersion } from './routing/spec.js';
export {
  validateTransition, inferMode, TRANSITION_MODES, DEFAULT_SESSION_TIMEOUT, DEFAULT_PERCENTAGE_STEP,
  DEFAULT_CONCURRENT_VERSIONS, DEFAULT_SIDE_EFFECT_METHODS,
} from './routing/transition.js';
export type { TransitionInput, Transition, TransitionMode } from './routing/transition.js';
export { compareVersions } from './routing/order.js';
export { ROLLBACK_REASONS } from './routing/standing.js';
export type { RollbackReason, Standing } from './routing/standing.js';
export { DEFAULT_COMPARE, DEFAULT_IGNORE_HEADERS } from './compare/options.js';
export type { CompareInput, CompareOptions } from './compare/options.js';
export type { ComparisonStatus, FieldReport } from './compare/comparer.js';
export type { DifferenceEvidence } from './compare/verdict.js';
export { DEFAULT_JUDGE } from './judge/options.js';
export type { JudgeInput, JudgeOptions, JudgeThresholds, LatencyRule, RetryBudget } from './judge/options.js';
export type { JudgementStatus, Decision } from './judge/judge.js';
export type { Outcome, Attempt, ExchangeRecord, JudgeSink } from './judge/types.js';
export { route } from './routing/router.js';
export { bucketOf } from './routing/strategies/index.js';
export type { Plan, RequestFacts } from './routing/strategies/index.js';
export { readCookie, setCookieLine } from './http/cookies.js';

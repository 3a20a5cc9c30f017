import { isObject } from '../given.js';
/**
 * The `judge` option: proxy-wide in `createProxy({ judge })`, and per version
 * in the cluster spec (`cluster.judge`), whose fields override the proxy's.
 * One validator serves both; the caller says which error class names the field.
 */

/** The retry budget the exchange's failover enforces (as Envoy's): extra requests may be `percent` % of the requests in flight, and at least `min`. */
export interface RetryBudget {
  readonly percent: number;
  readonly min: number;
}

/** The verdict rule's numbers; see `verdict.ts` for the rule itself. */
export interface JudgeThresholds {
  /** How much higher (as a proportion, 0–1) the newest's error proportion must be than the previous version's. Default 0.05. */
  readonly margin: number;
  /** With no reference (the previous version has too few outcomes): the error proportion (0–1) above which the newest is bad. Default 0.1. */
  readonly absolute: number;
  /** Width of the one-sided Wilson bounds, in standard deviations. Default 3 (about 99.9 % each side). */
  readonly z: number;
}

/** The optional latency rule: newest p99 first byte > `factor` × the previous version's p99. */
export interface LatencyRule {
  /** Default false. */
  readonly enabled: boolean;
  /** Default 3. */
  readonly factor: number;
  /** First-byte samples each side needs before the rule decides. Default 100. */
  readonly minSample: number;
}

/** The `judge` option, resolved. */
export interface JudgeOptions {
  /** Judge versions and roll back; false keeps the behaviour without judgement (nothing retried on status, no rollback). Default true. */
  readonly enabled: boolean;
  /** Outcomes kept per version (a sliding window of the latest requests). Default 1000. */
  readonly window: number;
  /** Judged outcomes of the newest (and of a reference) before a verdict. Default 10. */
  readonly minSample: number;
  readonly thresholds: JudgeThresholds;
  /** Response statuses that count as failures and may be retried elsewhere. Default 500, 502, 503, 504. */
  readonly retryOn: readonly number[];
  readonly budget: RetryBudget;
  readonly latency: LatencyRule;
}

/** What a caller may write: every field optional, nested ones too. */
export interface JudgeInput {
  enabled?: boolean;
  window?: number;
  minSample?: number;
  thresholds?: Partial<JudgeThresholds>;
  retryOn?: number[];
  budget?: Partial<RetryBudget>;
  latency?: Partial<LatencyRule>;
}

/** A validated `judge` object with only the fields given (a per-version override). */
export interface JudgeOverrides {
  readonly enabled?: boolean;
  readonly window?: number;
  readonly minSample?: number;
  readonly thresholds?: Partial<JudgeThresholds>;
  readonly retryOn?: readonly number[];
  readonly budget?: Partial<RetryBudget>;
  readonly latency?: Partial<LatencyRule>;
}

export const DEFAULT_JUDGE: JudgeOptions = Object.freeze({
  enabled: true,
  window: 1000,
  minSample: 10,
  thresholds: Object.freeze({ margin: 0.05, absolute: 0.1, z: 3 }),
  retryOn: Object.freeze([500, 502, 503, 504]),
  budget: Object.freeze({ percent: 20, min: 3 }),
  latency: Object.freeze({ enabled: false, factor: 3, minSample: 100 }),
});

type Fail = (field: string, message: string) => Error;

function keys(o: Record<string, unknown>, allowed: readonly string[], field: string, fail: Fail): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw fail(`${field}.${k}`, `unknown field (expected one of ${allowed.join(', ')})`);
  }
}

function obj(v: unknown, field: string, fail: Fail): Record<string, unknown> {
  if (!isObject(v)) throw fail(field, 'must be an object');
  return v;
}

function num(v: unknown, field: string, min: number, max: number, integer: boolean, fail: Fail): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw fail(field, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function bool(v: unknown, field: string, fail: Fail): boolean {
  if (typeof v !== 'boolean') throw fail(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Checks a `judge` object and returns the fields it gives, normalized and
 * frozen. `fail` builds the error (InvalidOptionError for the proxy's
 * options, InvalidVersionError for a version's spec).
 */
export function validateJudge(input: unknown, field: string, fail: Fail): JudgeOverrides {
  if (input === undefined) return Object.freeze({});
  const o = obj(input, field, fail);
  keys(o, ['enabled', 'window', 'minSample', 'thresholds', 'retryOn', 'budget', 'latency'], field, fail);
  const out: { -readonly [K in keyof JudgeOverrides]: JudgeOverrides[K] } = {};
  if (o['enabled'] !== undefined) out.enabled = bool(o['enabled'], `${field}.enabled`, fail);
  if (o['window'] !== undefined) out.window = num(o['window'], `${field}.window`, 10, 1_000_000, true, fail);
  if (o['minSample'] !== undefined) out.minSample = num(o['minSample'], `${field}.minSample`, 1, 1_000_000, true, fail);
  if (out.window !== undefined && out.minSample !== undefined && out.minSample > out.window) {
    throw fail(`${field}.minSample`, `must not exceed ${field}.window (${out.window}), got ${out.minSample}`);
  }
  if (o['thresholds'] !== undefined) {
    const t = obj(o['thresholds'], `${field}.thresholds`, fail);
    keys(t, ['margin', 'absolute', 'z'], `${field}.thresholds`, fail);
    const th: { -readonly [K in keyof JudgeThresholds]?: number } = {};
    if (t['margin'] !== undefined) th.margin = num(t['margin'], `${field}.thresholds.margin`, 0, 1, false, fail);
    if (t['absolute'] !== undefined) th.absolute = num(t['absolute'], `${field}.thresholds.absolute`, 0, 1, false, fail);
    if (t['z'] !== undefined) th.z = num(t['z'], `${field}.thresholds.z`, 0.5, 10, false, fail);
    out.thresholds = Object.freeze(th);
  }
  if (o['retryOn'] !== undefined) {
    const list = o['retryOn'];
    if (!Array.isArray(list)) throw fail(`${field}.retryOn`, 'must be an array of status codes (e.g. [500, 502, 503, 504])');
    out.retryOn = Object.freeze([...new Set(list.map((s, i) => num(s, `${field}.retryOn[${i}]`, 500, 599, true, fail)))]);
  }
  if (o['budget'] !== undefined) {
    const b = obj(o['budget'], `${field}.budget`, fail);
    keys(b, ['percent', 'min'], `${field}.budget`, fail);
    const bu: { percent?: number; min?: number } = {};
    if (b['percent'] !== undefined) bu.percent = num(b['percent'], `${field}.budget.percent`, 0, 100, false, fail);
    if (b['min'] !== undefined) bu.min = num(b['min'], `${field}.budget.min`, 0, 1_000_000, true, fail);
    out.budget = Object.freeze(bu);
  }
  if (o['latency'] !== undefined) {
    const l = obj(o['latency'], `${field}.latency`, fail);
    keys(l, ['enabled', 'factor', 'minSample'], `${field}.latency`, fail);
    const la: { enabled?: boolean; factor?: number; minSample?: number } = {};
    if (l['enabled'] !== undefined) la.enabled = bool(l['enabled'], `${field}.latency.enabled`, fail);
    if (l['factor'] !== undefined) la.factor = num(l['factor'], `${field}.latency.factor`, 1, 1000, false, fail);
    if (l['minSample'] !== undefined) la.minSample = num(l['minSample'], `${field}.latency.minSample`, 1, 1_000_000, true, fail);
    out.latency = Object.freeze(la);
  }
  return Object.freeze(out);
}

/**
 * `base` with `over`'s fields in place, frozen. A minimum sample larger than
 * the window could never be reached, so it is cut to the window.
 */
export function mergeJudge(base: JudgeOptions, over: JudgeOverrides | undefined): JudgeOptions {
  if (over === undefined || Object.keys(over).length === 0) return base;
  const window = over.window ?? base.window;
  const latency = { ...base.latency, ...over.latency };
  return Object.freeze({
    enabled: over.enabled ?? base.enabled,
    window,
    minSample: Math.min(window, over.minSample ?? base.minSample),
    thresholds: Object.freeze({ ...base.thresholds, ...over.thresholds }),
    retryOn: over.retryOn ?? base.retryOn,
    budget: Object.freeze({ ...base.budget, ...over.budget }),
    latency: Object.freeze({ ...latency, minSample: Math.min(window, latency.minSample) }),
  });
}

/** A `judge` override as JSON (for the cluster JSON and the state file). */
export function judgeToJSON(over: JudgeOverrides): JudgeInput {
  const out: JudgeInput = {};
  if (over.enabled !== undefined) out.enabled = over.enabled;
  if (over.window !== undefined) out.window = over.window;
  if (over.minSample !== undefined) out.minSample = over.minSample;
  if (over.thresholds !== undefined) out.thresholds = { ...over.thresholds };
  if (over.retryOn !== undefined) out.retryOn = [...over.retryOn];
  if (over.budget !== undefined) out.budget = { ...over.budget };
  if (over.latency !== undefined) out.latency = { ...over.latency };
  return out;
}

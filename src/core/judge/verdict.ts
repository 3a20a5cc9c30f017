import type { JudgeOptions } from './options.js';
import type { Counts } from './window.js';

/**
 * The verdict rule: the one place that decides the newest version is worse
 * than the previous one. Pure: counts in, verdict out.
 *
 * Errors. Let the newest's window hold n₁ judged outcomes with x₁ failures
 * (a status in `retryOn`, a failed connect, a reset or timeout before a
 * head). The reference is the previous version's outcomes
 *   1. in the same period (since the oldest outcome in the newest's window),
 *   2. else its recent history (its whole window),
 *   3. else none (an absolute threshold),
 * taking the first rung that holds at least `minSample` outcomes. Then, with
 * one-sided Wilson score bounds at `z` standard deviations,
 *
 *     roll back  ⇔  n₁ ≥ minSample  and  lower(x₁, n₁) > bound
 *     bound = min(upper(x₀, n₀) + margin, max(absolute, x₀/n₀ + margin))
 *                                    (no reference: bound = absolute)
 *
 * i.e. even the most favourable reading of the newest is worse, by more than
 * `margin`, than the least favourable reading of the previous version; a
 * reference that is merely uncertain (few outcomes, few failures) is not
 * allowed to make the rule more lenient than the absolute threshold. Two
 * bounds at z = 3 make a false alarm on equal versions vanishingly rare (each
 * side is wrong with p ≈ 0.0013, and both must be wrong by more than the
 * margin at once), which is what a test run on every failure needs; a newest
 * that fails 100 % is rolled back at the minimum sample (10), one that fails
 * 30 % well within 150 requests. The failure class most seen in the newest's
 * window names the reason (`unreachable` for failed connects, else `errors`).
 *
 * Latency (off by default). With at least `latency.minSample` first-byte
 * times on each side (reference: same period, else history), roll back when
 * the newest's p99 exceeds `latency.factor` × the reference's p99.
 */

export type Rung = 'same-period' | 'history' | 'absolute';

/** What the error rule compared, as status, events and the state file show it. */
export interface ErrorEvidence {
  readonly newest: Counts;
  /** Lower Wilson bound of the newest's error proportion. */
  readonly lower: number;
  readonly reference: { readonly rung: Rung; readonly requests: number; readonly failures: number };
  /** What `lower` had to exceed (see the rule above). */
  readonly bound: number;
}

export interface LatencyEvidence {
  readonly newestP99: number;
  readonly referenceP99: number;
  readonly newestSamples: number;
  readonly referenceSamples: number;
  readonly factor: number;
}

export type ErrorVerdict =
  | { readonly verdict: 'too-few'; readonly evidence: undefined }
  | { readonly verdict: 'pass'; readonly evidence: ErrorEvidence }
  | { readonly verdict: 'fail'; readonly reason: 'errors' | 'unreachable'; readonly evidence: ErrorEvidence };

export type LatencyVerdict =
  | { readonly verdict: 'too-few' }
  | { readonly verdict: 'pass' | 'fail'; readonly evidence: LatencyEvidence };

/** Lower one-sided Wilson score bound of x successes in n at z (0 when n is 0). */
export function wilsonLower(x: number, n: number, z: number): number {
  if (n === 0) return 0;
  const p = x / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const half = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - half) / (1 + z2 / n));
}

/** Upper one-sided Wilson score bound of x successes in n at z (1 when n is 0). */
export function wilsonUpper(x: number, n: number, z: number): number {
  if (n === 0) return 1;
  const p = x / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const half = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.min(1, (centre + half) / (1 + z2 / n));
}

/**
 * The error rule. `samePeriod` and `history` are the previous version's
 * outcomes (either may be undefined when there is no previous version).
 */
export function judgeErrors(
  newest: Counts,
  samePeriod: { requests: number; failures: number } | undefined,
  history: { requests: number; failures: number } | undefined,
  o: JudgeOptions,
): ErrorVerdict {
  if (newest.requests < o.minSample) return { verdict: 'too-few', evidence: undefined };
  const { z, margin, absolute } = o.thresholds;
  const lower = wilsonLower(newest.failures, newest.requests, z);
  let reference: ErrorEvidence['reference'];
  let bound: number;
  if (samePeriod !== undefined && samePeriod.requests >= o.minSample) {
    reference = { rung: 'same-period', requests: samePeriod.requests, failures: samePeriod.failures };
  } else if (history !== undefined && history.requests >= o.minSample) {
    reference = { rung: 'history', requests: history.requests, failures: history.failures };
  } else {
    reference = { rung: 'absolute', requests: 0, failures: 0 };
  }
  if (reference.rung === 'absolute') {
    bound = absolute;
  } else {
    // An uncertain reference (few outcomes) must not make the rule more
    // lenient than having none, unless it really fails that often.
    const observed = reference.failures / reference.requests;
    bound = Math.min(wilsonUpper(reference.failures, reference.requests, z) + margin, Math.max(absolute, observed + margin));
  }
  const evidence: ErrorEvidence = { newest, lower, reference, bound };
  if (!(lower > bound)) return { verdict: 'pass', evidence };
  const reason = newest.unreachable * 2 > newest.failures ? 'unreachable' : 'errors';
  return { verdict: 'fail', reason, evidence };
}

/** The p-quantile (0–1) of `values` by the nearest-rank method; sorts `values` in place. */
export function quantile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  values.sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(p * values.length));
  return values[rank - 1]!;
}

/** The latency rule, on first-byte times in ms of the newest and of the reference. */
export function judgeLatency(newest: number[], reference: number[], o: JudgeOptions): LatencyVerdict {
  const l = o.latency;
  if (newest.length < l.minSample || reference.length < l.minSample) return { verdict: 'too-few' };
  const evidence: LatencyEvidence = {
    newestP99: quantile(newest, 0.99),
    referenceP99: quantile(reference, 0.99),
    newestSamples: newest.length,
    referenceSamples: reference.length,
    factor: l.factor,
  };
  return { verdict: evidence.newestP99 > l.factor * evidence.referenceP99 ? 'fail' : 'pass', evidence };
}

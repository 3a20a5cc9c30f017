import { wilsonLower, wilsonUpper } from '../judge/verdict.js';
import type { CompareOptions } from './options.js';
import type { DifferenceWindow, FieldStat } from './window.js';

/**
 * The differences rule: the one place that decides the newest answers
 * differently enough from the previous version to be rolled back. Pure.
 *
 * Let the newest-vs-previous window hold n comparisons, x of which differ in
 * field f. When a noise baseline exists (the previous version has two
 * servers or more and a sample of requests went to both), let n₀ and x₀ be
 * the same for two servers of the previous version. With one-sided Wilson
 * bounds at `z` standard deviations:
 *
 *     f is noise    ⇔  x₀ > 0  and  not lower(x, n) > upper(x₀, n₀)
 *     f rolls back  ⇔  n ≥ minSample  and  f is not noise
 *                      and  lower(x, n) > maxDifferenceRate
 *                      and  (no baseline possible, or n₀ ≥ minSample)
 *
 * i.e. even the most favourable reading of f's difference rate exceeds the
 * allowed rate, and clearly exceeds how often two copies of the same version
 * disagree on it (timestamps, nonces, per-server ids differ there too). A
 * field on every answer is rolled back at the minimum sample (lower bound
 * 0.69 at n = 20, z = 3); one on 1 answer in 50 is reported only (its lower
 * bound is about 0.005 at n = 20 and 0.01 at n = 1000). While a baseline is possible but holds fewer than
 * `minSample` comparisons the verdict waits: a field it would call noise
 * must not roll anything back first. Status, header fields and the body
 * digest are fields like the JSON ones.
 */

export type FieldClass = 'noise' | 'differs' | 'fails';

export interface FieldVerdict {
  readonly field: string;
  readonly count: number;
  readonly rate: number;
  readonly lower: number;
  /** How often two servers of the previous version differed in it, when a baseline exists. */
  readonly noise?: { readonly count: number; readonly compared: number };
  readonly class: FieldClass;
}

export interface DifferenceEvidence {
  readonly field: string;
  readonly compared: number;
  readonly count: number;
  readonly lower: number;
  readonly maxDifferenceRate: number;
  readonly noise?: { readonly count: number; readonly compared: number };
  readonly sample: { readonly newest: string; readonly previous: string };
}

export type DifferenceVerdict =
  | { readonly verdict: 'too-few' | 'pass' }
  | { readonly verdict: 'fail'; readonly evidence: DifferenceEvidence };

/** `noise`: the previous version's servers compared with each other, or null when it has only one (no baseline possible). */
export function classify(s: FieldStat, versus: DifferenceWindow, noise: DifferenceWindow | null, o: CompareOptions): FieldVerdict {
  const n = versus.compared;
  const lower = wilsonLower(s.count, n, o.z);
  const base = { field: s.field, count: s.count, rate: n === 0 ? 0 : s.count / n, lower };
  let noiseOf: FieldVerdict['noise'];
  let cls: FieldClass = 'differs';
  if (noise !== null) {
    const x0 = noise.get(s.field)?.count ?? 0;
    const n0 = noise.compared;
    noiseOf = { count: x0, compared: n0 };
    if (x0 > 0 && !(lower > wilsonUpper(x0, n0, o.z))) cls = 'noise';
  }
  if (cls === 'differs' && n >= o.minSample && lower > o.maxDifferenceRate && (noise === null || noise.compared >= o.minSample)) cls = 'fails';
  return noiseOf === undefined ? { ...base, class: cls } : { ...base, noise: noiseOf, class: cls };
}

/** The verdict over every field of the window: fail names the field with the highest lower bound. */
export function judgeDifferences(versus: DifferenceWindow, noise: DifferenceWindow | null, o: CompareOptions): DifferenceVerdict {
  if (versus.compared < o.minSample) return { verdict: 'too-few' };
  let worst: { v: FieldVerdict; s: FieldStat } | undefined;
  for (const s of versus.fields()) {
    if (s.count === 0) continue;
    const v = classify(s, versus, noise, o);
    if (v.class === 'fails' && (worst === undefined || v.lower > worst.v.lower)) worst = { v, s };
  }
  if (worst === undefined) return { verdict: 'pass' };
  const { v, s } = worst;
  const evidence: DifferenceEvidence = {
    field: v.field, compared: versus.compared, count: v.count, lower: v.lower, maxDifferenceRate: o.maxDifferenceRate,
    ...(v.noise !== undefined ? { noise: v.noise } : {}),
    sample: { newest: s.a, previous: s.b },
  };
  return { verdict: 'fail', evidence };
}

import type { VersionState } from '../routing/version.js';
import type { ServerState } from '../upstream/server.js';
import { AnswerReader } from './answer.js';
import { diffAnswers } from './diff.js';
import { mergeCompare, type CompareOptions } from './options.js';
import { classify, judgeDifferences, type DifferenceEvidence } from './verdict.js';
import { DifferenceWindow } from './window.js';

/** The comparison part of one version in `status()`. */
export interface ComparisonStatus {
  enabled: boolean;
  /** The shadowing share (INSTANT, SESSION, GRADUAL); CONCURRENT compares every idempotent request. */
  sample: number;
  /** Comparisons with the previous version in the window, and since the version was added (or resumed). */
  compared: number;
  comparedTotal: number;
  /** `too-few` until `minSample` comparisons (and, when a baseline is possible, as many noise comparisons). */
  verdict: 'too-few' | 'pass' | 'fail';
  /**
   * The noise baseline: `available` when the previous version has two
   * servers or more (then `compared` counts the comparisons of two of its
   * servers); without one only the ignored headers and fields filter noise.
   */
  noiseBaseline: { available: boolean; compared: number };
  /** Fields that differ from the previous version (not noise), most often first. */
  differences: FieldReport[];
  /** Fields that differ as often between two servers of the previous version: not counted. */
  noise: FieldReport[];
}

export interface FieldReport {
  field: string;
  /** Comparisons in the window in which it differed, and that share of `compared`. */
  count: number;
  rate: number;
  /** Since the version was added (the counter's value). */
  total: number;
  /** The latest differing pair, truncated. */
  sample: { newest: string; previous: string };
  noise?: { count: number; compared: number };
}

interface Entry {
  spec: VersionState['spec'];
  opts: CompareOptions;
  versus: DifferenceWindow;
  noise: DifferenceWindow;
  /** The previous version had two servers or more at the last comparison. */
  baseline: boolean;
}

/**
 * One request's answers being compared: the newest's (or the routed
 * version's), the previous version's and, for the noise baseline, a second
 * server's of the previous version. Each side is read as it comes by its own
 * `AnswerReader`; when every side is settled the comparer takes the result.
 */
export class Comparison {
  readonly newest: AnswerReader;
  readonly previous: AnswerReader;
  readonly noise: AnswerReader | null;
  private pending: number;

  constructor(private readonly comparer: Comparer, readonly version: VersionState, method: string, opts: CompareOptions, noise: boolean) {
    const settled = (): void => {
      if (--this.pending === 0) this.comparer.finished(this);
    };
    this.newest = new AnswerReader(method, opts, settled);
    this.previous = new AnswerReader(method, opts, settled);
    this.noise = noise ? new AnswerReader(method, opts, settled) : null;
    this.pending = noise ? 3 : 2;
  }

  /** Gives up every side still being read. */
  abandon(): void {
    this.newest.fail();
    this.previous.fail();
    this.noise?.fail();
  }
}

/**
 * Response comparison for the whole proxy: which requests are compared (the
 * shadowing sample, the noise sample), the per-version windows of
 * differences, the verdict (`verdict.ts`) and the report. A failing verdict
 * goes to `onDifferences`, which rolls back through judgement.
 */
export class Comparer {
  private readonly entries = new WeakMap<VersionState, Entry>();
  /** The legs reading a side of a comparison on a connection of their own, each by what stops it. */
  private readonly reading = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly base: CompareOptions,
    /** The version a rollback of `v` goes back to (judgement's rule). */
    private readonly previousOf: (v: VersionState) => VersionState | undefined,
    private readonly onDifferences: (v: VersionState, evidence: DifferenceEvidence) => void,
    private readonly random: () => number = Math.random,
  ) {}

  options(v: VersionState): CompareOptions {
    return this.entry(v).opts;
  }

  /** The previous version of `v`, when this idempotent request of `v` is to be shadowed there; else undefined. */
  shadowTarget(v: VersionState, now: number): VersionState | undefined {
    // Every routed request asks: without a sample anywhere, answer before any lookup.
    if (this.closed || (this.base.sample <= 0 && v.spec.compare?.sample === undefined)) return undefined;
    const o = this.entry(v).opts;
    if (!o.enabled || o.sample <= 0 || this.random() >= o.sample) return undefined;
    const prev = this.previousOf(v);
    return prev !== undefined && prev.up(now) ? prev : undefined;
  }

  /** CONCURRENT: whether the legs of `v` and its previous version are compared. */
  comparesLegs(v: VersionState): boolean {
    return !this.closed && this.entry(v).opts.enabled;
  }

  /**
   * A leg now reads a side of a comparison on a connection of its own (a copy, a compared
   * CONCURRENT leg): `stop` ends it when the proxy closes, which must not wait up to
   * `compare.timeout` for an answer no client gets. The leg calls the returned release when it ends.
   */
  reads(stop: () => void): () => void {
    this.reading.add(stop);
    return () => { this.reading.delete(stop); };
  }

  /** The proxy is closing: no comparison begins, and every leg still reading one ends now. */
  close(): void {
    this.closed = true;
    for (const stop of [...this.reading]) stop();
    this.reading.clear();
  }

  /**
   * A second server of `prev` for the noise baseline (not `used`), when this
   * comparison of `v` takes part in it: every one until the baseline holds
   * `minSample` comparisons, then a `noiseSample` share.
   */
  noiseServer(v: VersionState, prev: VersionState, used: ServerState | null, now: number): ServerState | null {
    const e = this.entry(v);
    e.baseline = prev.servers.length >= 2;
    if (!e.baseline) return null;
    if (e.noise.compared >= e.opts.minSample && this.random() >= e.opts.noiseSample) return null;
    const others = prev.servers.filter((s) => s !== used && s.available(now));
    return others.length === 0 ? null : others[Math.floor(this.random() * others.length)]!;
  }

  begin(v: VersionState, method: string, noise: boolean): Comparison {
    return new Comparison(this, v, method, this.entry(v).opts, noise);
  }

  /** Every side of `c` is settled: its differences enter the windows, and the verdict is asked when the newest differed. */
  finished(c: Comparison): void {
    const e = this.entry(c.version);
    const prev = c.previous.answer;
    // A 5xx is judgement's to count (an error, not a difference).
    if (prev === null || prev.status >= 500) return;
    const noise = c.noise?.answer;
    if (noise != null && noise.status < 500) e.noise.push(diffAnswers(prev, noise, e.opts.ignoreFields));
    const newest = c.newest.answer;
    if (newest === null || newest.status >= 500) return;
    const diffs = diffAnswers(newest, prev, e.opts.ignoreFields);
    e.versus.push(diffs);
    if (diffs.length === 0) return;
    const verdict = judgeDifferences(e.versus, e.baseline ? e.noise : null, e.opts);
    if (verdict.verdict === 'fail') this.onDifferences(c.version, verdict.evidence);
  }

  /** Back to empty windows (the version was resumed). */
  reset(v: VersionState): void {
    this.entries.delete(v);
  }

  status(v: VersionState): ComparisonStatus {
    const e = this.entry(v);
    const noise = e.baseline ? e.noise : null;
    const differences: FieldReport[] = [];
    const noisy: FieldReport[] = [];
    for (const s of e.versus.fields()) {
      if (s.count === 0 && s.ever === 0) continue;
      const c = classify(s, e.versus, noise, e.opts);
      const r: FieldReport = { field: s.field, count: s.count, rate: round(c.rate), total: s.ever, sample: { newest: s.a, previous: s.b } };
      if (c.noise !== undefined) r.noise = { ...c.noise };
      (c.class === 'noise' ? noisy : differences).push(r);
    }
    const order = (x: FieldReport, y: FieldReport): number => y.count - x.count || y.total - x.total;
    differences.sort(order);
    noisy.sort(order);
    const verdict = judgeDifferences(e.versus, noise, e.opts).verdict;
    const waiting = noise !== null && noise.compared < e.opts.minSample;
    return {
      enabled: e.opts.enabled,
      sample: e.opts.sample,
      compared: e.versus.compared,
      comparedTotal: e.versus.total,
      verdict: verdict === 'pass' && waiting ? 'too-few' : verdict,
      noiseBaseline: { available: e.baseline, compared: e.noise.compared },
      differences,
      noise: noisy,
    };
  }

  private entry(v: VersionState): Entry {
    let e = this.entries.get(v);
    if (e === undefined) {
      const opts = mergeCompare(this.base, v.spec.compare);
      e = { spec: v.spec, opts, versus: new DifferenceWindow(opts.window, opts.maxFields), noise: new DifferenceWindow(opts.window, opts.maxFields), baseline: false };
      this.entries.set(v, e);
    } else if (e.spec !== v.spec) {
      e.spec = v.spec;
      e.opts = mergeCompare(this.base, v.spec.compare);
      if (e.opts.window !== e.versus.size || e.opts.maxFields !== e.versus.maxFields) {
        e.versus = new DifferenceWindow(e.opts.window, e.opts.maxFields);
        e.noise = new DifferenceWindow(e.opts.window, e.opts.maxFields);
      }
    }
    return e;
  }
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

import { InvalidVersionError, NoRollbackTargetError } from '../errors.js';
import type { ProxyEventEmitter } from '../events.js';
import type { RoutingTable } from '../routing/table.js';
import { JUDGED, ROLLBACK_REASONS, type RollbackReason } from '../routing/standing.js';
import type { VersionState } from '../routing/version.js';
import { mergeJudge, type JudgeOptions } from './options.js';
import type { Attempt, ExchangeRecord, JudgeSink } from './types.js';
import { judgeErrors, judgeLatency, quantile, type ErrorEvidence, type Rung } from './verdict.js';
import { OutcomeWindow, type Counts } from './window.js';

/** The latency rule sorts two windows: run it every this many first-byte samples of the newest, not on each. */
const LATENCY_EVERY = 16;

/** A decision an operator or the verdict took about a version. */
export interface Decision {
  readonly action: 'rollback' | 'promote' | 'resume';
  /** Epoch ms. */
  readonly at: number;
  readonly reason: RollbackReason | undefined;
  readonly evidence: object | undefined;
}

/** Judgement's part of one version in `status()`. */
export interface JudgementStatus {
  /**
   * `too-few`, `pass` or `fail`: the newest eligible version, under judgement
   * (`fail` holds while no previous version is up to go back to);
   * `not-judged`: an older version (a reference) or the only one;
   * `off`: `judge.enabled` is false for it; `rolled-back`; `promoted`.
   */
  verdict: 'too-few' | 'pass' | 'fail' | 'not-judged' | 'off' | 'rolled-back' | 'promoted';
  /** The version's window: judged outcomes by class, and requests that failed on every version tried (not counted). */
  window: Counts & { excused: number; p99FirstByteMs: number | undefined };
  /** Under judgement: what the newest was compared with, and the bounds. */
  reference?: { rung: Rung; uuid: string | undefined; requests: number; failures: number };
  lower?: number;
  bound?: number;
  /** The last rollback, promote or resume, with its reason and evidence. */
  lastDecision?: { action: Decision['action']; at: string; reason?: RollbackReason; evidence?: object };
}

interface Entry {
  /** The spec the options were merged from: a changed spec re-merges them. */
  spec: VersionState['spec'];
  opts: JudgeOptions;
  window: OutcomeWindow;
  excused: number;
  latencySamples: number;
  last: Decision | undefined;
}

export interface RollbackOptions {
  /** When the rollback happened (restoring a saved state). Default now. */
  at?: number;
  evidence?: object;
  /** Restoring a saved state: the rollback is not new, no event is published. */
  restored?: boolean;
}

/**
 * Judgement: the sink the exchange reports every decided request to, the
 * per-version outcome windows, and the one place that changes a version's
 * standing (rollback, promote, resume). The rule itself is `verdict.ts`.
 */
export class Judge implements JudgeSink {
  /** Requests recorded so far: the windows' common measure of "the same period". */
  private seq = 0;
  /** The version under judgement, cached for the routing snapshot it was found in (standing changes clear it). */
  private judgedFor: readonly VersionState[] | undefined;
  private judgedCache: VersionState | undefined;

  constructor(
    private readonly proxyId: number,
    private readonly base: JudgeOptions,
    private readonly table: RoutingTable,
    private readonly events: ProxyEventEmitter,
    /** Sets the GRADUAL share of a version (publishes its event). */
    private readonly setShare: (v: VersionState, percentage: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The judge options in force for `v`: the proxy's, with the version's `judge` fields over them. */
  options(v: VersionState): JudgeOptions {
    return this.entry(v).opts;
  }

  retryOn(status: number, v: VersionState): boolean {
    const o = this.entry(v).opts;
    return o.enabled && o.retryOn.includes(status);
  }

  record(r: ExchangeRecord): void {
    const attempts = r.attempts;
    if (attempts.length === 0) return;
    // Paired evidence: failures on two versions or more are the request's fault, not theirs.
    const excuse = failedOnSeveralVersions(attempts);
    const seq = ++this.seq;
    const judged = this.judged();
    let evaluate = false;
    for (const a of attempts) {
      const e = this.entry(a.version);
      if (excuse && a.outcome !== 'good') {
        e.excused++;
        continue;
      }
      e.window.push(a.outcome, seq, a.firstByteMs);
      if (a.version !== judged) continue;
      // The verdict can only turn to fail when the newest fails (or, for latency, is slow).
      if (a.outcome !== 'good') evaluate = true;
      else if (a.firstByteMs !== undefined && e.opts.latency.enabled && ++e.latencySamples >= LATENCY_EVERY) {
        e.latencySamples = 0;
        evaluate = true;
      }
    }
    if (judged !== undefined && evaluate) this.evaluate(judged, this.now());
  }

  /** The version under judgement: the newest eligible one, if judgement is on for it, it is not promoted, and it has a previous version. */
  private judged(): VersionState | undefined {
    const snap = this.table.snapshot;
    if (snap === this.judgedFor) return this.judgedCache;
    this.judgedFor = snap;
    this.judgedCache = this.findJudged(snap);
    return this.judgedCache;
  }

  private findJudged(snap: readonly VersionState[]): VersionState | undefined {
    let i = 0;
    while (i < snap.length && !snap[i]!.eligible) i++;
    const v = snap[i];
    if (v === undefined || v.standing.state === 'promoted' || !this.entry(v).opts.enabled) return undefined;
    return this.previous(v) === undefined ? undefined : v;
  }

  /**
   * The differences rule (`compare/verdict.ts`) failed for `v`: rolled back
   * with reason `differences` as an error verdict would be, if `v` is the
   * version under judgement and its previous version is up to go back to.
   */
  differences(v: VersionState, evidence: object): void {
    if (this.judged() !== v) return;
    const prev = this.previous(v);
    if (prev === undefined || !prev.up(this.now())) return;
    this.rollback(v, 'differences', { evidence });
  }

  /** The next eligible version after `v`: where a rollback of `v` sends traffic, and what it is compared with. */
  previous(v: VersionState): VersionState | undefined {
    const snap = this.table.snapshot;
    for (let i = snap.indexOf(v) + 1; i < snap.length; i++) if (snap[i]!.eligible) return snap[i];
    return undefined;
  }

  private errorVerdict(v: VersionState, prev: VersionState): ReturnType<typeof judgeErrors> {
    const e = this.entry(v);
    const p = this.entry(prev).window;
    const t0 = e.window.oldestAt;
    return judgeErrors(e.window.counts(), t0 === undefined ? undefined : p.since(t0), p.counts(), e.opts);
  }

  private latencyVerdict(v: VersionState, prev: VersionState): ReturnType<typeof judgeLatency> {
    const e = this.entry(v);
    const p = this.entry(prev).window;
    const t0 = e.window.oldestAt;
    const same = t0 === undefined ? [] : p.latencies(t0);
    const ref = same.length >= e.opts.latency.minSample ? same : p.latencies();
    return judgeLatency(e.window.latencies(), ref, e.opts);
  }

  private evaluate(v: VersionState, now: number): void {
    const prev = this.previous(v);
    // Rolling back onto a version that cannot serve either would only turn errors into 503s.
    if (prev === undefined || !prev.up(now)) return;
    const ev = this.errorVerdict(v, prev);
    if (ev.verdict === 'fail') {
      this.rollback(v, ev.reason, { evidence: ev.evidence });
      return;
    }
    if (!this.entry(v).opts.latency.enabled) return;
    const lv = this.latencyVerdict(v, prev);
    if (lv.verdict === 'fail') this.rollback(v, 'latency', { evidence: lv.evidence });
  }

  // ------------------------------------------------------------------ standing

  /**
   * Rolls `v` back: no new traffic from now on, its GRADUAL share back to 0.
   * Throws `NoRollbackTargetError` when no other eligible version is left.
   */
  rollback(v: VersionState, reason: RollbackReason, opts: RollbackOptions = {}): void {
    if (!ROLLBACK_REASONS.includes(reason)) throw new InvalidVersionError('reason', `must be one of ${ROLLBACK_REASONS.join(', ')}`);
    if (v.standing.state === 'rolled-back') return;
    const to = this.previous(v) ?? this.table.snapshot.find((x) => x !== v && x.eligible);
    if (to === undefined) throw new NoRollbackTargetError(v.uuid);
    const at = opts.at ?? this.now();
    v.standing = Object.freeze({ state: 'rolled-back', reason, at, evidence: opts.evidence });
    this.judgedFor = undefined;
    this.entry(v).last = { action: 'rollback', at, reason, evidence: opts.evidence };
    if (v.spec.transition.mode === 'GRADUAL' && v.percentage !== 0) this.setShare(v, 0);
    if (opts.restored === true) return;
    this.events.publish('rollback', {
      proxyId: this.proxyId, fromUuid: v.uuid, fromVersion: v.version, toUuid: to.uuid, toVersion: to.version,
      reason, evidence: opts.evidence,
    });
  }

  /** Ends the transition: while `v` is the newest, every new client goes to it, and it is no longer judged. */
  promote(v: VersionState, opts: { at?: number; restored?: boolean } = {}): void {
    const at = opts.at ?? this.now();
    v.standing = Object.freeze({ state: 'promoted', at });
    this.judgedFor = undefined;
    this.entry(v).last = { action: 'promote', at, reason: undefined, evidence: undefined };
    if (v.spec.transition.mode === 'GRADUAL' && v.percentage !== 100 && opts.restored !== true) this.setShare(v, 100);
    if (opts.restored !== true) this.events.publish('promote', { proxyId: this.proxyId, uuid: v.uuid, version: v.version });
  }

  /** Back into judgement with an empty window; a GRADUAL version starts again from its initial share. */
  resume(v: VersionState): void {
    const wasRolledBack = v.standing.state === 'rolled-back';
    v.standing = JUDGED;
    this.judgedFor = undefined;
    const e = this.entry(v);
    e.window = new OutcomeWindow(e.opts.window);
    e.excused = 0;
    e.latencySamples = 0;
    e.last = { action: 'resume', at: this.now(), reason: undefined, evidence: undefined };
    if (wasRolledBack && v.spec.transition.mode === 'GRADUAL') this.setShare(v, v.spec.transition.initialPercentage);
    this.events.publish('resume', { proxyId: this.proxyId, uuid: v.uuid, version: v.version });
  }

  // ------------------------------------------------------------------ status

  status(v: VersionState): JudgementStatus {
    const e = this.entry(v);
    const p99 = quantile(e.window.latencies(), 0.99);
    const out: JudgementStatus = {
      verdict: 'not-judged',
      window: { ...e.window.counts(), excused: e.excused, p99FirstByteMs: Number.isNaN(p99) ? undefined : p99 },
    };
    if (v.standing.state === 'rolled-back') out.verdict = 'rolled-back';
    else if (v.standing.state === 'promoted') out.verdict = 'promoted';
    else if (!e.opts.enabled) out.verdict = 'off';
    else if (this.judged() === v) {
      const prev = this.previous(v)!;
      const ev = this.errorVerdict(v, prev);
      out.verdict = ev.verdict;
      if (ev.evidence !== undefined) {
        out.reference = { ...referenceOf(ev.evidence), uuid: ev.evidence.reference.rung === 'absolute' ? undefined : prev.uuid };
        out.lower = ev.evidence.lower;
        out.bound = ev.evidence.bound;
      }
      if (out.verdict === 'pass' && e.opts.latency.enabled && this.latencyVerdict(v, prev).verdict === 'fail') out.verdict = 'fail';
    }
    if (e.last !== undefined) {
      out.lastDecision = { action: e.last.action, at: new Date(e.last.at).toISOString() };
      if (e.last.reason !== undefined) out.lastDecision.reason = e.last.reason;
      if (e.last.evidence !== undefined) out.lastDecision.evidence = e.last.evidence;
    }
    return out;
  }

  private entry(v: VersionState): Entry {
    let e = v.judgeSlot as Entry | undefined;
    if (e === undefined) {
      const opts = mergeJudge(this.base, v.spec.judge);
      e = { spec: v.spec, opts, window: new OutcomeWindow(opts.window), excused: 0, latencySamples: 0, last: undefined };
      v.judgeSlot = e;
    } else if (e.spec !== v.spec) {
      // The version's spec changed (its `judge` fields may have): keep the outcomes unless the window size changed.
      e.spec = v.spec;
      e.opts = mergeJudge(this.base, v.spec.judge);
      if (e.opts.window !== e.window.size) e.window = new OutcomeWindow(e.opts.window);
    }
    return e;
  }
}

function referenceOf(ev: ErrorEvidence): { rung: Rung; requests: number; failures: number } {
  return { rung: ev.reference.rung, requests: ev.reference.requests, failures: ev.reference.failures };
}

/**
 * The request failed on at least two versions (the newest and the previous
 * one, or everywhere it went): it says nothing against any of them, and its
 * failures count for none (one client sending a broken request must never
 * roll everyone back). A version that answered it well still counts that. A
 * failure on one version only (not tried elsewhere) has no pair and counts.
 */
function failedOnSeveralVersions(attempts: readonly Attempt[]): boolean {
  if (attempts.length < 2) return false;
  let first: VersionState | undefined;
  for (const a of attempts) {
    if (a.outcome === 'good') continue;
    if (first === undefined) first = a.version;
    else if (a.version !== first) return true;
  }
  return false;
}

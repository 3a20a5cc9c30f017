import type { Outcome } from './types.js';

/** Outcome classes as small integers, for the typed arrays. */
const KIND: Record<Outcome, number> = { good: 0, status: 1, unreachable: 2, reset: 3, timeout: 4 };

/** What a window (or the part of it since a time) holds. */
export interface Counts {
  /** Judged outcomes. */
  readonly requests: number;
  /** All but `good`. */
  readonly failures: number;
  readonly good: number;
  readonly status: number;
  readonly unreachable: number;
  readonly reset: number;
  readonly timeout: number;
}

export const NO_COUNTS: Counts = Object.freeze({ requests: 0, failures: 0, good: 0, status: 0, unreachable: 0, reset: 0, timeout: 0 });

/**
 * The latest `size` judged outcomes of one version, as a ring: when each was
 * recorded (the judge's sequence number of the request, shared by every
 * version, so "the same period" needs no clock on the request path), its
 * class, and its first-byte latency when a head came back. Counts per class
 * are kept as outcomes enter and leave, so the whole window's figures cost
 * nothing to read; the part since a sequence number (the same period as
 * another version's window) is found by a binary search.
 */
export class OutcomeWindow {
  readonly size: number;
  private readonly when: Float64Array;
  private readonly kind: Uint8Array;
  private readonly ms: Float64Array;
  /** Per slot: failures recorded up to and including it, since the window began. */
  private readonly cumFail: Float64Array;
  private readonly perKind = [0, 0, 0, 0, 0];
  /** Outcomes ever pushed; the newest is at (total - 1) % size. */
  private total = 0;
  private failuresEver = 0;

  constructor(size: number) {
    this.size = size;
    this.when = new Float64Array(size);
    this.kind = new Uint8Array(size);
    this.ms = new Float64Array(size);
    this.cumFail = new Float64Array(size);
  }

  /** Outcomes held now. */
  get length(): number {
    return Math.min(this.total, this.size);
  }

  /** Sequence number of the oldest outcome held, or undefined when empty. */
  get oldestAt(): number | undefined {
    return this.total === 0 ? undefined : this.when[this.slot(0)];
  }

  push(outcome: Outcome, seq: number, firstByteMs: number | undefined): void {
    const i = this.total % this.size;
    if (this.total >= this.size) this.perKind[this.kind[i]!]!--;
    const k = KIND[outcome];
    this.when[i] = seq;
    this.kind[i] = k;
    this.ms[i] = firstByteMs ?? Number.NaN;
    if (k !== 0) this.failuresEver++;
    this.cumFail[i] = this.failuresEver;
    this.perKind[k]!++;
    this.total++;
  }

  /** The whole window's figures. */
  counts(): Counts {
    const [good, status, unreachable, reset, timeout] = this.perKind as [number, number, number, number, number];
    const requests = good + status + unreachable + reset + timeout;
    return { requests, failures: requests - good, good, status, unreachable, reset, timeout };
  }

  /** Requests and failures among the outcomes recorded at or after `t` (classes are not split: the rule needs the two totals). */
  since(t: number): { requests: number; failures: number } {
    const n = this.length;
    // First position (0 = oldest) whose time is >= t.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.when[this.slot(mid)]! < t) lo = mid + 1;
      else hi = mid;
    }
    if (lo === n) return { requests: 0, failures: 0 };
    const first = this.slot(lo);
    const failedBefore = this.cumFail[first]! - (this.kind[first] !== 0 ? 1 : 0);
    return { requests: n - lo, failures: this.failuresEver - failedBefore };
  }

  /** First-byte latencies of the outcomes at or after `t` (all held when undefined), unsorted. */
  latencies(t?: number): number[] {
    const out: number[] = [];
    const n = this.length;
    for (let p = 0; p < n; p++) {
      const i = this.slot(p);
      if (t !== undefined && this.when[i]! < t) continue;
      const v = this.ms[i]!;
      if (!Number.isNaN(v)) out.push(v);
    }
    return out;
  }

  /** Slot of the outcome at position `p`, 0 being the oldest held. */
  private slot(p: number): number {
    const start = this.total <= this.size ? 0 : this.total % this.size;
    return (start + p) % this.size;
  }
}

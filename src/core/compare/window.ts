import type { Difference } from './diff.js';

/** A field's figures in a window: how often it differed, and one sample pair. */
export interface FieldStat {
  readonly field: string;
  /** Comparisons in the window in which it differed. */
  count: number;
  /** Comparisons in which it differed since the version was added (for counters). */
  ever: number;
  /** The latest pair of differing values (truncated). */
  a: string;
  b: string;
}

/** The field that stands for every field past `maxFields`. */
export const OTHER = '(other)';

/**
 * The latest `size` comparisons of one pair of sides (newest against
 * previous, or two servers of the previous version), as a ring: for each,
 * the fields that differed. Per-field counts are kept as comparisons enter
 * and leave, so reading them costs nothing. Memory is bounded: `size` slots,
 * at most 32 fields per slot (`MAX_FIELDS_PER_PAIR`), and at most `maxFields`
 * distinct fields; a new field past that takes the place of one that no
 * longer differs in the window, else it is counted as `(other)`.
 */
export class DifferenceWindow {
  readonly size: number;
  private readonly ring: (FieldStat[] | null)[];
  private readonly stats = new Map<string, FieldStat>();
  /** Comparisons ever pushed. */
  total = 0;

  constructor(size: number, readonly maxFields: number) {
    this.size = size;
    this.ring = new Array<FieldStat[] | null>(size).fill(null);
  }

  /** Comparisons held now. */
  get compared(): number {
    return Math.min(this.total, this.size);
  }

  push(diffs: readonly Difference[]): void {
    const i = this.total % this.size;
    const old = this.ring[i];
    if (old !== null && old !== undefined) for (const s of old) s.count--;
    let entry: FieldStat[] | null = null;
    for (const d of diffs) {
      const s = this.stat(d.field);
      // `(other)` may stand for several fields of one pair: it counts once.
      if (entry !== null && entry.includes(s)) continue;
      s.count++;
      s.ever++;
      s.a = d.a;
      s.b = d.b;
      (entry ??= []).push(s);
    }
    this.ring[i] = entry;
    this.total++;
  }

  /** The fields tracked (those that differed in the window, and some that did before). */
  fields(): IterableIterator<FieldStat> {
    return this.stats.values();
  }

  get(field: string): FieldStat | undefined {
    return this.stats.get(field);
  }

  private stat(field: string): FieldStat {
    let s = this.stats.get(field);
    if (s !== undefined) return s;
    if (this.stats.size >= this.maxFields) {
      let spare: FieldStat | undefined;
      for (const x of this.stats.values()) if (x.count === 0 && x.field !== OTHER && (spare === undefined || x.ever < spare.ever)) spare = x;
      if (spare === undefined) return this.other();
      this.stats.delete(spare.field);
    }
    s = { field, count: 0, ever: 0, a: '', b: '' };
    this.stats.set(field, s);
    return s;
  }

  private other(): FieldStat {
    let s = this.stats.get(OTHER);
    if (s === undefined) {
      s = { field: OTHER, count: 0, ever: 0, a: '', b: '' };
      this.stats.set(OTHER, s);
    }
    return s;
  }
}

import semver from 'semver';

/**
 * Compares two version strings semantically: semver when both parse
 * (loosely, so "v1.2.3" counts), else a numeric-aware natural order where
 * digit runs compare as numbers ("10.0" > "2.0", "1.10" > "1.9").
 * Returns a negative number when `a` is older, positive when newer, 0 on a tie.
 */
export function compareVersions(a: string, b: string): number {
  const sa = semver.valid(a, { loose: true });
  const sb = sa === null ? null : semver.valid(b, { loose: true });
  if (sa !== null && sb !== null) return semver.compare(sa, sb);
  return naturalCompare(a, b);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Numeric-aware comparison: runs of digits compare by value, other characters by code unit. */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let ei = i;
      let ej = j;
      while (ei < a.length && isDigit(a.charCodeAt(ei))) ei++;
      while (ej < b.length && isDigit(b.charCodeAt(ej))) ej++;
      // Strip leading zeros so "007" and "7" have the same value; the
      // longer significant run is the larger number.
      let si = i;
      let sj = j;
      while (si < ei - 1 && a.charCodeAt(si) === 48) si++;
      while (sj < ej - 1 && b.charCodeAt(sj) === 48) sj++;
      const la = ei - si;
      const lb = ej - sj;
      if (la !== lb) return la - lb;
      for (let k = 0; k < la; k++) {
        const d = a.charCodeAt(si + k) - b.charCodeAt(sj + k);
        if (d !== 0) return d;
      }
      i = ei;
      j = ej;
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  return (a.length - i) - (b.length - j);
}

/** Anything that can be ordered newest first. */
export interface Orderable {
  readonly version: string;
  /** Monotonic sequence number of the add; the later add wins a tie. */
  readonly addedSeq: number;
}

/** Newest first: highest version; on a tie, the most recently added. */
export function newestFirst(a: Orderable, b: Orderable): number {
  const c = compareVersions(b.version, a.version);
  return c !== 0 ? c : b.addedSeq - a.addedSeq;
}

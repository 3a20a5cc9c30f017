/**
 * "Did you mean" for names a person typed: the config file's fields, REST
 * bodies, library options and CLI commands all refuse an unknown name with
 * the nearest known one, worded the same way everywhere.
 */

/** Edit distance (insert, delete, substitute, swap of neighbours), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...new Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) d[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      // "prot" for "port" is one slip, not two.
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[s.length]![t.length]!;
}

/**
 * The known name nearest to `name`, or undefined when none is near enough
 * to be a typo (at most a third of the name's length, at least one edit).
 */
export function nearest(name: string, known: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(name, k);
    if (dist < bestD) {
      best = k;
      bestD = dist;
    }
  }
  return bestD <= limit ? best : undefined;
}

/**
 * `unknown field prot — did you mean port?`, else `unknown field (expected one of …)`:
 * the caller's field path already names what was given.
 */
export function unknownName(what: string, name: string, known: readonly string[]): string {
  const near = nearest(name, known);
  return near !== undefined ? `unknown ${what} ${name} — did you mean ${near}?` : `unknown ${what} (expected one of ${known.join(', ')})`;
}

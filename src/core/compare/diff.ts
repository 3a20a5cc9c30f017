import type { Answer } from './answer.js';
import { fieldOf } from './flatten.js';

/** One field in which two answers differ, with the two values (truncated) for the report. */
export interface Difference {
  /** `status`, `header:<name>`, `body` (digest or length, or one is JSON and the other not), or a JSON field (`items[].price`, `$` for a root scalar). */
  readonly field: string;
  readonly a: string;
  readonly b: string;
}

/** Sample values are cut to this many characters. */
export const SAMPLE_CHARS = 120;

/** Fields reported from one pair at most (a body that changed everywhere names its first ones). */
export const MAX_FIELDS_PER_PAIR = 32;

const ABSENT = '(absent)';

function cut(s: string): string {
  return s.length <= SAMPLE_CHARS ? s : `${s.slice(0, SAMPLE_CHARS - 1)}…`;
}

/**
 * The fields in which answer `a` differs from answer `b`, each once (the
 * first concrete path of a JSON field gives its sample values). Fields in
 * `ignore` (JSON fields as the report names them) are not compared.
 */
export function diffAnswers(a: Answer, b: Answer, ignore: readonly string[]): Difference[] {
  const out: Difference[] = [];
  const seen = new Set<string>();
  const add = (field: string, x: string | undefined, y: string | undefined): boolean => {
    if (seen.has(field) || ignore.includes(field)) return out.length < MAX_FIELDS_PER_PAIR;
    seen.add(field);
    out.push({ field, a: cut(x ?? ABSENT), b: cut(y ?? ABSENT) });
    return out.length < MAX_FIELDS_PER_PAIR;
  };
  if (a.status !== b.status && !add('status', String(a.status), String(b.status))) return out;
  if (!diffMaps(a.headers, b.headers, (k) => `header:${k}`, add)) return out;
  if (a.json !== null && b.json !== null) {
    diffMaps(a.json, b.json, fieldOf, add);
  } else if (a.digest !== b.digest || a.length !== b.length || (a.json === null) !== (b.json === null)) {
    add('body', describe(a), describe(b));
  }
  return out;
}

/** Adds every key whose value differs (or is on one side only); false once `add` says enough. */
function diffMaps(
  x: ReadonlyMap<string, string>,
  y: ReadonlyMap<string, string>,
  name: (k: string) => string,
  add: (field: string, a: string | undefined, b: string | undefined) => boolean,
): boolean {
  for (const [k, v] of x) {
    const w = y.get(k);
    if (w !== v && !add(name(k), v, w)) return false;
  }
  for (const [k, w] of y) if (!x.has(k) && !add(name(k), undefined, w)) return false;
  return true;
}

function describe(a: Answer): string {
  return `${a.json !== null ? 'json' : 'sha1'} ${a.digest.slice(0, 12)}, ${a.length} bytes`;
}

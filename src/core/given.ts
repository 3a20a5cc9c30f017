/**
 * What a caller gave, for "got ..." in an error message: JSON (so control
 * characters arrive escaped, never raw on a terminal), cut at 100
 * characters. JSON cannot say Infinity: `1e400` parses to it, and
 * JSON.stringify would print `null`, which the caller never wrote.
 */
export function given(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) {
    return Number.isNaN(v) ? 'NaN' : `${v} (a number too large to represent, such as 1e400)`;
  }
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = undefined;
  }
  if (s === undefined) return String(v);
  // JSON escapes C0 controls only; DEL, C1 and the bidi controls are escaped here.
  s = s.replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}

/** A JSON object (not null, not an array): what a validator may read fields of. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The kind of value a caller gave where another was expected (`an array`), for error messages. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * A JSON value as its leaves: concrete path → the leaf's JSON text. Paths
 * name object keys with dots and array elements by index (`items[0].price`),
 * so array order is part of the comparison; the report names a field without
 * the indices (`items[].price`, `fieldOf`). An empty object or array is a
 * leaf of its own (`{}`, `[]`), so its presence is compared too. The root
 * scalar is `$`.
 */

/** Leaves taken from one body at most: a larger document is compared by digest. */
export const MAX_LEAVES = 10_000;

/** The leaves of `value`, or null when there are more than `max`. */
export function flatten(value: unknown, max = MAX_LEAVES): Map<string, string> | null {
  const out = new Map<string, string>();
  return walk(value, '', out, max) ? out : null;
}

function walk(v: unknown, path: string, out: Map<string, string>, max: number): boolean {
  if (Array.isArray(v)) {
    if (v.length === 0) return leaf(out, path, '[]', max);
    for (let i = 0; i < v.length; i++) if (!walk(v[i], `${path}[${i}]`, out, max)) return false;
    return true;
  }
  if (typeof v === 'object' && v !== null) {
    const keys = Object.keys(v);
    if (keys.length === 0) return leaf(out, path, '{}', max);
    for (const k of keys) if (!walk((v as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`, out, max)) return false;
    return true;
  }
  return leaf(out, path, JSON.stringify(v) ?? 'null', max);
}

function leaf(out: Map<string, string>, path: string, text: string, max: number): boolean {
  if (out.size >= max) return false;
  out.set(path === '' ? '$' : path, text);
  return true;
}

/** The field a concrete path belongs to: its array indices left out (`items[3].price` → `items[].price`). */
export function fieldOf(path: string): string {
  return path.includes('[') ? path.replace(/\[\d+\]/g, '[]') : path;
}

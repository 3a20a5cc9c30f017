/**
 * The `compare` option: proxy-wide in `createProxy({ compare })`, and per
 * version in the cluster spec (`cluster.compare`), whose fields override the
 * proxy's. One validator serves both; the caller says which error class names
 * the field (as for `judge`).
 */

/** The `compare` option, resolved. */
export interface CompareOptions {
  /** Compare the answers of two versions that served the same idempotent request (CONCURRENT legs, shadowed requests). Default true. */
  readonly enabled: boolean;
  /**
   * Share (0–1) of a version's idempotent requests that are also sent to the
   * previous version and compared, in INSTANT, SESSION and GRADUAL (the client
   * gets the routed version's answer). CONCURRENT compares every request. Default 0.
   */
  readonly sample: number;
  /** A field whose difference rate over the window clearly exceeds this share (0–1) rolls the version back. Default 0.05. */
  readonly maxDifferenceRate: number;
  /** Comparisons in the window before a verdict (and noise comparisons before the baseline counts). Default 20. */
  readonly minSample: number;
  /** Comparisons kept per version (a sliding window of the latest). Default 1000. */
  readonly window: number;
  /** Width of the one-sided Wilson bounds, in standard deviations. Default 3. */
  readonly z: number;
  /**
   * Share (0–1) of compared requests that also go to a second server of the
   * previous version (the noise baseline), once the baseline holds
   * `minSample` comparisons; until then every compared request does. Default 0.1.
   */
  readonly noiseSample: number;
  /** Response header fields never compared (lower case). `Set-Cookie` is compared by cookie names, never values. */
  readonly ignoreHeaders: readonly string[];
  /** JSON fields never compared, as the report names them (`items[].updatedAt`). Default none. */
  readonly ignoreFields: readonly string[];
  /** JSON bodies up to this many bytes are compared field by field; larger ones (and any other body) by digest and length. Default 262144. */
  readonly jsonLimit: number;
  /** Distinct fields tracked per version (the report's and the metrics' cardinality); more are counted as `(other)`. Default 50. */
  readonly maxFields: number;
  /** Milliseconds a compared answer may take to arrive in full before the comparison is given up. Default 10000. */
  readonly timeout: number;
}

/** What a caller may write: every field optional. */
export type CompareInput = { -readonly [K in keyof CompareOptions]?: CompareOptions[K] extends readonly string[] ? string[] : CompareOptions[K] };

/** A validated `compare` object with only the fields given (a per-version override). */
export type CompareOverrides = Partial<CompareOptions>;

/**
 * Fields that differ between any two servers by nature: dates and ages,
 * per-request ids and timings, validators tied to a server's copy.
 * `ETag` is left out: servers of one release normally agree on it, and a
 * release that changes a representation should change it too.
 */
export const DEFAULT_IGNORE_HEADERS: readonly string[] = Object.freeze([
  'date', 'age', 'expires', 'last-modified', 'x-request-id', 'x-correlation-id', 'request-id', 'traceparent', 'tracestate',
  'server-timing', 'x-response-time', 'x-runtime', 'via', 'x-served-by', 'x-cache', 'x-cache-hits', 'connection', 'keep-alive',
  'transfer-encoding', 'content-length',
]);

export const DEFAULT_COMPARE: CompareOptions = Object.freeze({
  enabled: true,
  sample: 0,
  maxDifferenceRate: 0.05,
  minSample: 20,
  window: 1000,
  z: 3,
  noiseSample: 0.1,
  ignoreHeaders: DEFAULT_IGNORE_HEADERS,
  ignoreFields: Object.freeze([]),
  jsonLimit: 256 * 1024,
  maxFields: 50,
  timeout: 10_000,
});

type Fail = (field: string, message: string) => Error;

const KEYS = Object.keys(DEFAULT_COMPARE) as (keyof CompareOptions)[];

function num(v: unknown, field: string, min: number, max: number, integer: boolean, fail: Fail): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw fail(field, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function names(v: unknown, field: string, lower: boolean, fail: Fail): readonly string[] {
  if (!Array.isArray(v)) throw fail(field, 'must be an array of strings');
  return Object.freeze([...new Set(v.map((s, i) => {
    if (typeof s !== 'string' || s.length === 0 || s.length > 256) throw fail(`${field}[${i}]`, `must be a non-empty string of at most 256 characters, got ${JSON.stringify(s)}`);
    return lower ? s.toLowerCase() : s;
  }))]);
}

/**
 * Checks a `compare` object and returns the fields it gives, normalized and
 * frozen. `fail` builds the error (InvalidOptionError for the proxy's
 * options, InvalidVersionError for a version's spec).
 */
export function validateCompare(input: unknown, field: string, fail: Fail): CompareOverrides {
  if (input === undefined) return Object.freeze({});
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw fail(field, 'must be an object');
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(KEYS as string[]).includes(k)) throw fail(`${field}.${k}`, `unknown field (expected one of ${KEYS.join(', ')})`);
  }
  const out: { -readonly [K in keyof CompareOptions]?: CompareOptions[K] } = {};
  const f = (k: string): string => `${field}.${k}`;
  if (o['enabled'] !== undefined) {
    if (typeof o['enabled'] !== 'boolean') throw fail(f('enabled'), `must be true or false, got ${JSON.stringify(o['enabled'])}`);
    out.enabled = o['enabled'];
  }
  if (o['sample'] !== undefined) out.sample = num(o['sample'], f('sample'), 0, 1, false, fail);
  if (o['maxDifferenceRate'] !== undefined) out.maxDifferenceRate = num(o['maxDifferenceRate'], f('maxDifferenceRate'), 0, 1, false, fail);
  if (o['minSample'] !== undefined) out.minSample = num(o['minSample'], f('minSample'), 1, 1_000_000, true, fail);
  if (o['window'] !== undefined) out.window = num(o['window'], f('window'), 10, 1_000_000, true, fail);
  if (out.window !== undefined && out.minSample !== undefined && out.minSample > out.window) {
    throw fail(f('minSample'), `must not exceed ${field}.window (${out.window}), got ${out.minSample}`);
  }
  if (o['z'] !== undefined) out.z = num(o['z'], f('z'), 0.5, 10, false, fail);
  if (o['noiseSample'] !== undefined) out.noiseSample = num(o['noiseSample'], f('noiseSample'), 0, 1, false, fail);
  if (o['ignoreHeaders'] !== undefined) out.ignoreHeaders = names(o['ignoreHeaders'], f('ignoreHeaders'), true, fail);
  if (o['ignoreFields'] !== undefined) out.ignoreFields = names(o['ignoreFields'], f('ignoreFields'), false, fail);
  if (o['jsonLimit'] !== undefined) out.jsonLimit = num(o['jsonLimit'], f('jsonLimit'), 0, 64 * 1024 * 1024, true, fail);
  if (o['maxFields'] !== undefined) out.maxFields = num(o['maxFields'], f('maxFields'), 1, 1000, true, fail);
  if (o['timeout'] !== undefined) out.timeout = num(o['timeout'], f('timeout'), 1, 600_000, true, fail);
  return Object.freeze(out);
}

/** `base` with `over`'s fields in place, frozen; a minimum sample larger than the window is cut to it. */
export function mergeCompare(base: CompareOptions, over: CompareOverrides | undefined): CompareOptions {
  if (over === undefined || Object.keys(over).length === 0) return base;
  const merged = { ...base, ...over };
  merged.minSample = Math.min(merged.window, merged.minSample);
  return Object.freeze(merged);
}

/** A `compare` override as JSON (for the cluster JSON and the state file). */
export function compareToJSON(over: CompareOverrides): CompareInput {
  const out: Record<string, unknown> = {};
  for (const k of KEYS) {
    const v = over[k];
    if (v !== undefined) out[k] = Array.isArray(v) ? [...v] : v;
  }
  return out as CompareInput;
}

import { randomUUID } from 'node:crypto';
import { InvalidVersionError } from '../errors.js';
import { given } from '../given.js';
import { compareToJSON, validateCompare, type CompareInput, type CompareOverrides } from '../compare/options.js';
import { judgeToJSON, validateJudge, type JudgeInput, type JudgeOverrides } from '../judge/options.js';
import { unknownName } from '../suggest.js';
import { retireToJSON, validateRetire, type RetireInput, type RetirePolicy } from './retire-options.js';

/** The four ways traffic moves to the newest version. */
export const TRANSITION_MODES = ['INSTANT', 'SESSION', 'GRADUAL', 'CONCURRENT'] as const;
export type TransitionMode = (typeof TRANSITION_MODES)[number];

export type BalancingPolicy = 'round-robin' | 'least-connections';
export const BALANCING_POLICIES: readonly BalancingPolicy[] = ['round-robin', 'least-connections'];

/** One backend address of a version, as the seed writes it. */
export interface ServerAddress {
  hostname: string;
  port: number;
}

/** How traffic moves to this version when it is the newest (the seed's `upgradeTransition`). */
export interface TransitionInput {
  /** INSTANT, SESSION, GRADUAL or CONCURRENT (case-insensitive). Default: the mode of the fields given (see `inferMode`), else INSTANT. */
  mode?: string;
  /** SESSION: seconds a client may stay idle on an older version before it moves to the newest. Default 3600. */
  sessionTimeout?: number;
  /** GRADUAL: percentage points the share grows for each request the newest answers correctly. Default 1. */
  percentageTransitionPerRequest?: number;
  /** GRADUAL: share of clients (0–100) sent to the newest at the start. Default: one step. */
  initialPercentage?: number;
  /** CONCURRENT: how many of the newest versions get each request. Default 2. */
  concurrentVersions?: number;
  /** CONCURRENT: milliseconds to wait for a response head from each version. Default: the proxy's `timeouts.firstByte`. */
  firstByteTimeout?: number;
  /** CONCURRENT: methods with side effects, sent to one version only. Default POST, PUT, PATCH, DELETE. */
  sideEffectMethods?: string[];
}

/** A version as the seed's `cluster` JSON describes it, plus a few optional extras. */
export interface VersionInput {
  /** Id of the version: 1–64 characters of `[A-Za-z0-9._-]`, not `.` or `..`. Generated when absent. */
  uuid?: string;
  /** Release name, without control characters; ordered semantically (semver, else numeric-aware). Default "0.0", as the seed's. */
  version?: string;
  /** Backend addresses of this version. */
  servers?: ServerAddress[];
  upgradeTransition?: TransitionInput;
  /** How requests spread over this version's servers. Default round-robin. */
  balancing?: BalancingPolicy;
  /** Judgement of this version: fields given here override the proxy's `judge` option. */
  judge?: JudgeInput;
  /** When this version is removed by itself once a newer one took over (overrides the proxy's `retire`). */
  retire?: RetireInput;
  /** Comparison of this version's answers with the previous version's: fields given here override the proxy's `compare` option. */
  compare?: CompareInput;
}

/** A validated, normalized transition. */
export interface Transition {
  readonly mode: TransitionMode;
  readonly sessionTimeout: number;
  readonly percentageTransitionPerRequest: number;
  readonly initialPercentage: number;
  readonly concurrentVersions: number;
  readonly firstByteTimeout: number | undefined;
  readonly sideEffectMethods: readonly string[];
}

/** A validated, normalized version. */
export interface VersionSpec {
  readonly uuid: string;
  readonly version: string;
  readonly servers: readonly ServerAddress[];
  readonly transition: Transition;
  readonly balancing: BalancingPolicy;
  /** The version's own `judge` fields (over the proxy's); undefined when none given. */
  readonly judge: JudgeOverrides | undefined;
  /** The version's own `retire`; undefined: the proxy's. */
  readonly retire: RetirePolicy | undefined;
  /** The version's own `compare` fields (over the proxy's); undefined when none given. */
  readonly compare: CompareOverrides | undefined;
}

/** The seed's version of a cluster that gives none. */
export const DEFAULT_VERSION = '0.0';
export const DEFAULT_SESSION_TIMEOUT = 3600;
export const DEFAULT_PERCENTAGE_STEP = 1;
export const DEFAULT_CONCURRENT_VERSIONS = 2;
export const DEFAULT_SIDE_EFFECT_METHODS: readonly string[] = Object.freeze(['POST', 'PUT', 'PATCH', 'DELETE']);
const MAX_CONCURRENT_VERSIONS = 8;

const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const METHOD_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
const HOST_RE = /^[A-Za-z0-9._:%[\]-]{1,253}$/;

const VERSION_KEYS = new Set(['uuid', 'version', 'servers', 'upgradeTransition', 'balancing', 'judge', 'retire', 'compare']);
const TRANSITION_KEYS = new Set([
  'mode', 'sessionTimeout', 'percentageTransitionPerRequest', 'initialPercentage',
  'concurrentVersions', 'firstByteTimeout', 'sideEffectMethods',
]);
/** Which mode each mode-specific field belongs to; a field given with another mode is a mistake. */
const FIELD_MODE: Record<string, TransitionMode> = {
  sessionTimeout: 'SESSION',
  percentageTransitionPerRequest: 'GRADUAL',
  initialPercentage: 'GRADUAL',
  concurrentVersions: 'CONCURRENT',
  firstByteTimeout: 'CONCURRENT',
  sideEffectMethods: 'CONCURRENT',
};

export interface ValidateVersionOptions {
  /** Prefix of field paths in errors. Default `cluster`. */
  root?: string;
  /** Accept a version without `servers` (the sidecar fills them in, e.g. from containers). */
  serversOptional?: boolean;
  /** Extra top-level keys to accept and ignore (the sidecar's `containers`). */
  extraKeys?: readonly string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * A uuid is a path segment of the REST API (`/configuration/cluster/{uuid}`)
 * and must reach it unchanged: `.` and `..` are dot segments that URL
 * normalisation (RFC 3986 5.2.4, `new URL()`, curl, fetch) removes, so a
 * version so named could be added but never read, changed or removed. The
 * other characters allowed need no percent-encoding.
 */
export function isValidVersionId(id: unknown): id is string {
  return typeof id === 'string' && ID_RE.test(id) && id !== '.' && id !== '..';
}

/**
 * Characters a version name must not hold: C0 and C1 controls (CR, LF, NUL,
 * ESC...), DEL, and the bidirectional and line-separator controls. The name is
 * printed by the CLI and emitted as a Prometheus label value; any of these
 * would let a version rewrite a terminal or a scrape.
 */
const VERSION_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Validates one server address; throws `InvalidVersionError` naming the field. */
export function validateServer(input: unknown, field: string): ServerAddress {
  if (!isObject(input)) throw new InvalidVersionError(field, `must be an object {hostname, port}, got ${typeName(input)}`);
  for (const k of Object.keys(input)) {
    if (k !== 'hostname' && k !== 'port') throw new InvalidVersionError(`${field}.${k}`, unknownName('field', k, ['hostname', 'port']));
  }
  const { hostname, port } = input;
  if (typeof hostname !== 'string' || !HOST_RE.test(hostname)) {
    throw new InvalidVersionError(`${field}.hostname`, `must be a host name or IP address, got ${given(hostname)}`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidVersionError(`${field}.port`, `must be an integer from 1 to 65535, got ${given(port)}`);
  }
  return { hostname, port };
}

export function validateServers(input: unknown, field: string): ServerAddress[] {
  if (!Array.isArray(input)) throw new InvalidVersionError(field, `must be an array of {hostname, port}, got ${typeName(input)}`);
  if (input.length === 0) throw new InvalidVersionError(field, 'must list at least one server');
  if (input.length > 1024) throw new InvalidVersionError(field, 'must list at most 1024 servers');
  return input.map((s, i) => validateServer(s, `${field}[${i}]`));
}

/**
 * The mode a transition without `mode` means, from its fields, as the seed
 * reads it: `sessionTimeout` is SESSION, `percentageTransitionPerRequest` or
 * `initialPercentage` GRADUAL, `concurrentVersions`, `firstByteTimeout` or
 * `sideEffectMethods` CONCURRENT. `undefined` when no such field is given.
 * Fields of two modes without a `mode` are an error naming the second field.
 */
export function inferMode(input: Record<string, unknown>, field: string): TransitionMode | undefined {
  let found: [string, TransitionMode] | undefined;
  for (const [k, owner] of Object.entries(FIELD_MODE)) {
    if (input[k] === undefined || input[k] === null) continue;
    if (found === undefined) found = [k, owner];
    else if (found[1] !== owner) {
      throw new InvalidVersionError(`${field}.${k}`, `only applies to mode ${owner}, but ${found[0]} only applies to mode ${found[1]}; give "mode" to say which`);
    }
  }
  return found?.[1];
}

function numberIn(v: unknown, field: string, min: number, max: number, integer: boolean, unit: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    throw new InvalidVersionError(field, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}${unit}, got ${given(v)}`);
  }
  return v;
}

/** Validates the seed's `upgradeTransition` object and fills its defaults. */
export function validateTransition(input: unknown, field: string): Transition {
  if (input === undefined || input === null) input = {};
  if (!isObject(input)) throw new InvalidVersionError(field, `must be an object, got ${typeName(input)}`);
  for (const k of Object.keys(input)) {
    if (!TRANSITION_KEYS.has(k)) throw new InvalidVersionError(`${field}.${k}`, unknownName('field', k, [...TRANSITION_KEYS]));
  }
  let mode: TransitionMode = 'INSTANT';
  if (input['mode'] === undefined) {
    mode = inferMode(input, field) ?? 'INSTANT';
  } else {
    const m = input['mode'];
    const up = typeof m === 'string' ? m.toUpperCase() : m;
    if (typeof up !== 'string' || !(TRANSITION_MODES as readonly string[]).includes(up)) {
      throw new InvalidVersionError(`${field}.mode`, `must be one of ${TRANSITION_MODES.join(', ')}, got ${given(m)}`);
    }
    mode = up as TransitionMode;
  }
  for (const [k, owner] of Object.entries(FIELD_MODE)) {
    if (input[k] !== undefined && input[k] !== null && owner !== mode) {
      throw new InvalidVersionError(`${field}.${k}`, `only applies to mode ${owner}, but mode is ${mode}`);
    }
  }
  const has = (k: string): boolean => input[k] !== undefined && input[k] !== null;
  const sessionTimeout = has('sessionTimeout')
    ? numberIn(input['sessionTimeout'], `${field}.sessionTimeout`, 1, 31_536_000, true, ' seconds')
    : DEFAULT_SESSION_TIMEOUT;
  const step = has('percentageTransitionPerRequest')
    ? numberIn(input['percentageTransitionPerRequest'], `${field}.percentageTransitionPerRequest`, 0.0001, 100, false, ' percentage points')
    : DEFAULT_PERCENTAGE_STEP;
  if (step <= 0) throw new InvalidVersionError(`${field}.percentageTransitionPerRequest`, 'must be greater than 0');
  const initialPercentage = has('initialPercentage')
    ? numberIn(input['initialPercentage'], `${field}.initialPercentage`, 0, 100, false, ' percent')
    : Math.min(100, step);
  const concurrentVersions = has('concurrentVersions')
    ? numberIn(input['concurrentVersions'], `${field}.concurrentVersions`, 2, MAX_CONCURRENT_VERSIONS, true, '')
    : DEFAULT_CONCURRENT_VERSIONS;
  const firstByteTimeout = has('firstByteTimeout')
    ? numberIn(input['firstByteTimeout'], `${field}.firstByteTimeout`, 1, 3_600_000, true, ' ms')
    : undefined;
  let sideEffectMethods = DEFAULT_SIDE_EFFECT_METHODS;
  if (has('sideEffectMethods')) {
    const list = input['sideEffectMethods'];
    if (!Array.isArray(list)) throw new InvalidVersionError(`${field}.sideEffectMethods`, `must be an array of method names, got ${typeName(list)}`);
    sideEffectMethods = Object.freeze(list.map((m, i) => {
      if (typeof m !== 'string' || !METHOD_RE.test(m)) throw new InvalidVersionError(`${field}.sideEffectMethods[${i}]`, `must be an HTTP method name, got ${given(m)}`);
      return m.toUpperCase();
    }));
  }
  return Object.freeze({
    mode, sessionTimeout, percentageTransitionPerRequest: step, initialPercentage,
    concurrentVersions, firstByteTimeout, sideEffectMethods,
  });
}

/**
 * Validates a version given as the seed's `cluster` JSON and returns it
 * normalized and frozen. Throws `InvalidVersionError` with the field path.
 */
export function validateVersion(input: unknown, opts: ValidateVersionOptions = {}): VersionSpec {
  const root = opts.root ?? 'cluster';
  if (!isObject(input)) throw new InvalidVersionError(root, `must be an object, got ${typeName(input)}`);
  const extra = new Set(opts.extraKeys ?? []);
  for (const k of Object.keys(input)) {
    if (!VERSION_KEYS.has(k) && !extra.has(k)) {
      throw new InvalidVersionError(`${root}.${k}`, unknownName('field', k, [...VERSION_KEYS, ...extra]));
    }
  }
  let uuid: string;
  if (input['uuid'] === undefined || input['uuid'] === null || input['uuid'] === '') {
    uuid = randomUUID();
  } else if (isValidVersionId(input['uuid'])) {
    uuid = input['uuid'];
  } else {
    throw new InvalidVersionError(`${root}.uuid`, `must be 1-64 characters of A-Z a-z 0-9 . _ -, and not "." or "..", got ${given(input['uuid'])}`);
  }
  const version = input['version'] ?? DEFAULT_VERSION;
  if (typeof version !== 'string' || version.trim() === '' || version.length > 128) {
    throw new InvalidVersionError(`${root}.version`, `must be a non-empty string of at most 128 characters, got ${given(version)}`);
  }
  if (VERSION_FORBIDDEN.test(version)) {
    throw new InvalidVersionError(`${root}.version`, `must not contain control characters (CR, LF, NUL, other C0/C1, bidi or line-separator controls), got ${given(version)}`);
  }
  let servers: ServerAddress[] = [];
  const noServers = input['servers'] === undefined || (Array.isArray(input['servers']) && input['servers'].length === 0);
  if (noServers && opts.serversOptional) {
    // The sidecar empties a container version whose container died, so it is down at once.
    servers = [];
  } else if (input['servers'] === undefined) {
    throw new InvalidVersionError(`${root}.servers`, 'is required (an array of {hostname, port})');
  } else {
    servers = validateServers(input['servers'], `${root}.servers`);
  }
  const transition = validateTransition(input['upgradeTransition'], `${root}.upgradeTransition`);
  let balancing: BalancingPolicy = 'round-robin';
  if (input['balancing'] !== undefined) {
    const b = input['balancing'];
    if (typeof b !== 'string' || !(BALANCING_POLICIES as readonly string[]).includes(b)) {
      throw new InvalidVersionError(`${root}.balancing`, `must be one of ${BALANCING_POLICIES.join(', ')}, got ${given(b)}`);
    }
    balancing = b as BalancingPolicy;
  }
  const judge = input['judge'] === undefined || input['judge'] === null
    ? undefined
    : validateJudge(input['judge'], `${root}.judge`, (f, m) => new InvalidVersionError(f, m));
  const retire = input['retire'] === undefined || input['retire'] === null
    ? undefined
    : validateRetire(input['retire'], `${root}.retire`, (f, m) => new InvalidVersionError(f, m));
  const compare = input['compare'] === undefined || input['compare'] === null
    ? undefined
    : validateCompare(input['compare'], `${root}.compare`, (f, m) => new InvalidVersionError(f, m));
  return Object.freeze({ uuid, version, servers: Object.freeze(servers), transition, balancing, judge, retire, compare });
}

/** The seed's wire shape of a version, as REST and the state file write it. */
export interface ClusterJSON {
  uuid: string;
  version: string;
  servers: ServerAddress[];
  upgradeTransition: TransitionInput & { mode: TransitionMode };
  balancing?: BalancingPolicy;
  judge?: JudgeInput;
  retire?: RetireInput;
  compare?: CompareInput;
}

/** Turns a normalized version back into the seed's JSON, listing only the fields its mode uses. */
export function toClusterJSON(spec: VersionSpec): ClusterJSON {
  const t = spec.transition;
  const upgradeTransition: ClusterJSON['upgradeTransition'] = { mode: t.mode };
  if (t.mode === 'SESSION') upgradeTransition.sessionTimeout = t.sessionTimeout;
  if (t.mode === 'GRADUAL') {
    upgradeTransition.percentageTransitionPerRequest = t.percentageTransitionPerRequest;
    upgradeTransition.initialPercentage = t.initialPercentage;
  }
  if (t.mode === 'CONCURRENT') {
    upgradeTransition.concurrentVersions = t.concurrentVersions;
    if (t.firstByteTimeout !== undefined) upgradeTransition.firstByteTimeout = t.firstByteTimeout;
    upgradeTransition.sideEffectMethods = [...t.sideEffectMethods];
  }
  const out: ClusterJSON = {
    uuid: spec.uuid,
    version: spec.version,
    servers: spec.servers.map((s) => ({ hostname: s.hostname, port: s.port })),
    upgradeTransition,
  };
  if (spec.balancing !== 'round-robin') out.balancing = spec.balancing;
  if (spec.judge !== undefined && Object.keys(spec.judge).length > 0) out.judge = judgeToJSON(spec.judge);
  if (spec.retire !== undefined) out.retire = retireToJSON(spec.retire);
  if (spec.compare !== undefined && Object.keys(spec.compare).length > 0) out.compare = compareToJSON(spec.compare);
  return out;
}

/** A version with a patch applied, checked in full (see `patchVersion`). */
export interface PatchedVersion {
  readonly spec: VersionSpec;
  /** GRADUAL: the share the patch sets, when it sets one. */
  readonly percentage: number | undefined;
}

const PATCH_KEYS = ['version', 'servers', 'upgradeTransition', 'balancing', 'percentage', 'uuid', 'judge', 'retire', 'compare'];

/**
 * What a PATCH body makes of a version, without changing anything: the
 * caller can store the result before it applies it. `upgradeTransition` is
 * merged into the current one when its mode (given, else the one its fields
 * imply) is the current one; another mode starts afresh.
 * Throws `InvalidVersionError` naming the field.
 */
export function patchVersion(current: ClusterJSON, patch: unknown, opts: { serversOptional?: boolean } = {}): PatchedVersion {
  if (!isObject(patch)) throw new InvalidVersionError('cluster', 'must be an object');
  for (const k of Object.keys(patch)) {
    if (!PATCH_KEYS.includes(k)) {
      throw new InvalidVersionError(`cluster.${k}`, unknownName('field', k, ['version', 'servers', 'upgradeTransition', 'balancing', 'percentage', 'judge', 'retire', 'compare']));
    }
  }
  if (patch['uuid'] !== undefined && patch['uuid'] !== current.uuid) throw new InvalidVersionError('cluster.uuid', 'cannot be changed');
  let transition: Record<string, unknown> = { ...current.upgradeTransition };
  if (patch['upgradeTransition'] !== undefined) {
    const next = patch['upgradeTransition'];
    if (!isObject(next)) throw new InvalidVersionError('cluster.upgradeTransition', 'must be an object');
    // Without a mode, the patch's fields say it, as in a new version: {"sessionTimeout": 60} on a GRADUAL version switches it to SESSION.
    const mode = typeof next['mode'] === 'string' ? next['mode'].toUpperCase() : inferMode(next, 'cluster.upgradeTransition') ?? current.upgradeTransition.mode;
    // Defaults of the old mode (e.g. GRADUAL's initialPercentage) do not carry over to a new one.
    transition = mode === current.upgradeTransition.mode ? { ...transition, ...next } : { ...next };
  }
  const merged = {
    uuid: current.uuid,
    version: patch['version'] ?? current.version,
    servers: patch['servers'] ?? current.servers,
    upgradeTransition: transition,
    ...(patch['balancing'] !== undefined ? { balancing: patch['balancing'] } : current.balancing ? { balancing: current.balancing } : {}),
    ...(patch['judge'] !== undefined ? { judge: patch['judge'] } : current.judge ? { judge: current.judge } : {}),
    ...(patch['retire'] !== undefined ? { retire: patch['retire'] } : current.retire ? { retire: current.retire } : {}),
    ...(patch['compare'] !== undefined ? { compare: patch['compare'] } : current.compare ? { compare: current.compare } : {}),
  };
  const spec = validateVersion(merged, { serversOptional: opts.serversOptional === true });
  let percentage: number | undefined;
  if (patch['percentage'] !== undefined) {
    const pct = patch['percentage'];
    if (typeof pct !== 'number' || !Number.isFinite(pct) || pct < 0 || pct > 100) throw new InvalidVersionError('cluster.percentage', 'must be a number from 0 to 100');
    if (spec.transition.mode !== 'GRADUAL') throw new InvalidVersionError('cluster.percentage', `only applies to mode GRADUAL, but mode is ${spec.transition.mode}`);
    percentage = pct;
  }
  return { spec, percentage };
}

import { randomUUID } from 'node:crypto';
import { InvalidVersionError } from '../errors.js';
import { given, isObject, typeName } from '../given.js';
import { compareToJSON, validateCompare, type CompareInput, type CompareOverrides } from '../compare/options.js';
import { judgeToJSON, validateJudge, type JudgeInput, type JudgeOverrides } from '../judge/options.js';
import { unknownName } from '../suggest.js';
import { retireToJSON, validateRetire, type RetireInput, type RetirePolicy } from './retire-options.js';
import { patchTransition, transitionToJSON, validateTransition, type Transition, type TransitionInput, type TransitionJSON } from './transition.js';

export type BalancingPolicy = 'round-robin' | 'least-connections';
export const BALANCING_POLICIES: readonly BalancingPolicy[] = ['round-robin', 'least-connections'];

/** One backend address of a version, as the seed writes it. */
export interface ServerAddress {
  hostname: string;
  port: number;
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

const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const HOST_RE = /^[A-Za-z0-9._:%[\]-]{1,253}$/;

const VERSION_KEYS = new Set(['uuid', 'version', 'servers', 'upgradeTransition', 'balancing', 'judge', 'retire', 'compare']);

export interface ValidateVersionOptions {
  /** Prefix of field paths in errors. Default `cluster`. */
  root?: string;
  /** Accept a version without `servers` (the sidecar fills them in, e.g. from containers). */
  serversOptional?: boolean;
  /** Extra top-level keys to accept and ignore (the sidecar's `containers`). */
  extraKeys?: readonly string[];
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
  upgradeTransition: TransitionJSON;
  balancing?: BalancingPolicy;
  judge?: JudgeInput;
  retire?: RetireInput;
  compare?: CompareInput;
}

/** Turns a normalized version back into the seed's JSON, listing only the fields its mode uses. */
export function toClusterJSON(spec: VersionSpec): ClusterJSON {
  const out: ClusterJSON = {
    uuid: spec.uuid,
    version: spec.version,
    servers: spec.servers.map((s) => ({ hostname: s.hostname, port: s.port })),
    upgradeTransition: transitionToJSON(spec.transition),
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
  const merged = {
    uuid: current.uuid,
    version: patch['version'] ?? current.version,
    servers: patch['servers'] ?? current.servers,
    upgradeTransition: patchTransition(current.upgradeTransition, patch['upgradeTransition']),
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

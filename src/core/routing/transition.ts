import { InvalidVersionError } from '../errors.js';
import { given, isObject, typeName } from '../given.js';
import { unknownName } from '../suggest.js';

/** The four ways traffic moves to the newest version. */
export const TRANSITION_MODES = ['INSTANT', 'SESSION', 'GRADUAL', 'CONCURRENT'] as const;
export type TransitionMode = (typeof TRANSITION_MODES)[number];

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

/** A transition as the seed's JSON writes it: the mode, and only the fields that mode uses. */
export type TransitionJSON = TransitionInput & { mode: TransitionMode };

export const DEFAULT_SESSION_TIMEOUT = 3600;
export const DEFAULT_PERCENTAGE_STEP = 1;
export const DEFAULT_CONCURRENT_VERSIONS = 2;
export const DEFAULT_SIDE_EFFECT_METHODS: readonly string[] = Object.freeze(['POST', 'PUT', 'PATCH', 'DELETE']);
const MAX_CONCURRENT_VERSIONS = 8;
const METHOD_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;

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

/** A normalized transition back in the seed's JSON, listing only the fields its mode uses. */
export function transitionToJSON(t: Transition): TransitionJSON {
  const upgradeTransition: TransitionJSON = { mode: t.mode };
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
  return upgradeTransition;
}

/**
 * The transition a PATCH body's `upgradeTransition` makes of the current one, before validation:
 * merged into it when its mode (given, else the one its fields imply) is the current one; another
 * mode starts afresh.
 */
export function patchTransition(current: TransitionJSON, next: unknown): Record<string, unknown> {
  if (next === undefined) return { ...current };
  if (!isObject(next)) throw new InvalidVersionError('cluster.upgradeTransition', 'must be an object');
  // Without a mode, the patch's fields say it, as in a new version: {"sessionTimeout": 60} on a GRADUAL version switches it to SESSION.
  const mode = typeof next['mode'] === 'string' ? next['mode'].toUpperCase() : inferMode(next, 'cluster.upgradeTransition') ?? current.mode;
  // Defaults of the old mode (e.g. GRADUAL's initialPercentage) do not carry over to a new one.
  return mode === current.mode ? { ...current, ...next } : { ...next };
}

import { isObject } from '../core/given.js';
/**
 * What a change did to a version, as lines a person reads:
 * `upgradeTransition.mode: "INSTANT" -> "GRADUAL"`. Objects are compared
 * field by field (dotted paths); arrays and scalars as a whole.
 */
export function changes(before: unknown, after: unknown, path = ''): string[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => changes(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [`${path}: ${show(before)} -> ${show(after)}`];
}

function show(v: unknown): string {
  return v === undefined ? '(none)' : JSON.stringify(v);
}


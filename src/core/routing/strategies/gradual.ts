import type { Strategy } from './types.js';

/** Transition ids we accept from clients; anything else gets a fresh id. */
const ID_RE = /^[A-Za-z0-9_-]{8,128}$/;

/**
 * Stable bucket in [0, 100) for a transition id: FNV-1a (32 bit) of its
 * characters, in hundredths. Every process and host computes the same bucket,
 * so a client lands on the same side wherever it connects.
 */
export function bucketOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) % 10_000) / 100;
}

/**
 * GRADUAL: clients whose bucket is below the newest version's share go to
 * the newest, the others to the previous version. The share only grows
 * (see `VersionState.percentage`), so a client that moved never moves back
 * unless the newest fails and the fallback takes it.
 */
export const gradual: Strategy = ({ up, down, facts, newId }) => {
  const given = facts.transitionCookie;
  const known = given !== undefined && ID_RE.test(given);
  const id = known ? given : newId();
  const newTransitionId = known ? undefined : id;
  const newest = up[0];
  const previous = up[1];
  if (newest === undefined || previous === undefined) {
    // One version (or none) up: nothing to split, nothing to crash on.
    return { targets: down.length === 0 ? up : up.concat(down), fanOut: 1, mode: 'GRADUAL', reason: 'only-version', newTransitionId, gradual: undefined };
  }
  if (bucketOf(id) < newest.percentage) {
    return { targets: down.length === 0 ? up : up.concat(down), fanOut: 1, mode: 'GRADUAL', reason: 'gradual-in', newTransitionId, gradual: newest };
  }
  return {
    targets: [previous, ...up.slice(2), newest, ...down],
    fanOut: 1, mode: 'GRADUAL', reason: 'gradual-out', newTransitionId, gradual: undefined,
  };
};

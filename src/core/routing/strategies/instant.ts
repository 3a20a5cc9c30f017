import type { Strategy } from './types.js';

/** INSTANT: every client goes to the newest version; cookies are ignored. Older versions are fallbacks. */
export const instant: Strategy = ({ up, down }) => ({
  targets: down.length === 0 ? up : up.concat(down),
  fanOut: 1,
  mode: 'INSTANT',
  reason: 'newest',
  sessionMaxAge: undefined,
  newTransitionId: undefined,
  gradual: undefined,
});

import type { Strategy } from './types.js';

/** INSTANT: every client goes to the newest version; the session cookie does not route (it is kept for a later SESSION transition). Older versions are fallbacks. */
export const instant: Strategy = ({ up, down }) => ({
  targets: down.length === 0 ? up : up.concat(down),
  fanOut: 1,
  mode: 'INSTANT',
  reason: 'newest',
  newTransitionId: undefined,
  gradual: undefined,
});

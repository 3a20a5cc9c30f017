import type { Strategy } from './types.js';

/**
 * SESSION: a client whose session cookie names a live version stays on it;
 * everyone else starts a session on the newest. Every mode keeps the cookie
 * (see `session-cookie.ts`): its lifetime is the newest version's
 * `sessionTimeout`, sliding, so a session expires after that long idle and
 * the client moves on; sessions that began before this transition keep the
 * version they began on.
 */
export const session: Strategy = ({ up, down, session: cookie }) => {
  const newest = up[0];
  const id = cookie?.uuid;
  const sticky = id === undefined ? undefined : up.find((v) => v.uuid === id);
  if (sticky !== undefined && sticky !== newest) {
    return {
      targets: [sticky, ...up.filter((v) => v !== sticky), ...down],
      fanOut: 1, mode: 'SESSION', reason: 'session',
      newTransitionId: undefined, gradual: undefined,
    };
  }
  return {
    targets: down.length === 0 ? up : up.concat(down),
    fanOut: 1, mode: 'SESSION', reason: sticky === undefined ? (id === undefined ? 'new-session' : 'session-unknown') : 'session',
    newTransitionId: undefined, gradual: undefined,
  };
};
